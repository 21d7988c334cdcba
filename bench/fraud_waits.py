"""Where an escalation waits inside fraud: queued behind earlier transactions of the consumer,
or in the work of its own transaction, or after it (commit and the outbox relay).

Fraud's own database holds what is needed, without instrumenting the service: every
assessment's outbox row has `created_at`, the start of the consumer transaction that recorded
it (PostgreSQL's `now()`), and its payload's `assessed_at`, the moment the event's assessment
was made; the relay stamps `published_at` once Kafka acknowledged the row. Rows sharing
`created_at` are one transaction: their number is the batch's size, their last `assessed_at`
is where its work ended. With the escalation record's own Kafka timestamp and its assessment
record's timestamp, each escalation's path splits into:

- `queued`: escalation published → its transaction began; of which `behind_batches` is the
  part during which the consumer was inside earlier transactions (the rest is fetching,
  decoding and the poll's timeout);
- `own_work`: its transaction began → its own assessment was made;
- `rest_of_batch`: → the last assessment of its transaction (work it waits for before commit);
- `commit_and_relay`: → its assessment record was published.

`python -m bench.fraud_waits DATABASE_URL BOOTSTRAP` measures an end-to-end run after the fact
(the escalations from `intake.returns.v1`, the assessments from `fraud.assessments.v1`, fraud's
database as the bench left it); `bench/fraud_latency.py` calls `waits` per step.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.e2e.figures import latency_summary

STAGES = ("queued", "behind_batches", "own_work", "rest_of_batch", "commit_and_relay")


@dataclass(frozen=True, slots=True)
class Transaction:
    began: float  # epoch seconds
    ended: float  # its last assessment
    events: int


@dataclass(frozen=True, slots=True)
class Assessed:
    subject: uuid.UUID
    began: float
    assessed: float


def split(
    escalations: Mapping[uuid.UUID, float],
    published: Mapping[uuid.UUID, float],
    assessed: Mapping[uuid.UUID, Assessed],
    transactions: list[Transaction],
) -> dict[str, Any]:
    """Per stage, the escalations' p50/p95 (ms), plus the size of the transactions they were
    assessed in and of the ones they queued behind. Pure: every time in epoch seconds."""
    by_start = sorted(transactions, key=lambda t: t.began)
    starts = [t.began for t in by_start]
    of_tx = {t.began: t for t in by_start}
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    own_sizes: list[float] = []
    behind_sizes: list[float] = []
    missing = 0
    for ce_id, sent in escalations.items():
        a, done = assessed.get(ce_id), published.get(ce_id)
        tx = of_tx.get(a.began) if a else None
        if a is None or done is None or tx is None:
            missing += 1
            continue
        stages["queued"].append(max(a.began - sent, 0.0))
        # The consumer runs one transaction at a time: the earlier ones overlapping the wait.
        behind, events = 0.0, 0
        for t in by_start[: bisect.bisect_left(starts, a.began)][::-1]:
            if t.ended <= sent:
                break
            behind += max(min(t.ended, a.began) - max(t.began, sent), 0.0)
            events += t.events
        stages["behind_batches"].append(behind)
        behind_sizes.append(float(events))
        stages["own_work"].append(max(a.assessed - a.began, 0.0))
        stages["rest_of_batch"].append(max(tx.ended - a.assessed, 0.0))
        stages["commit_and_relay"].append(max(done - tx.ended, 0.0))
        own_sizes.append(float(tx.events))

    def sizes(values: list[float]) -> dict[str, float | None]:
        ordered = sorted(values)
        if not ordered:
            return {"p50": None, "p95": None, "max": None}
        return {
            "p50": ordered[len(ordered) // 2],
            "p95": ordered[min(int(len(ordered) * 0.95), len(ordered) - 1)],
            "max": ordered[-1],
        }

    return {
        "stages_ms": {s: latency_summary(v, missing=missing) for s, v in stages.items()},
        "events_in_its_transaction": sizes(own_sizes),
        "events_in_transactions_queued_behind": sizes(behind_sizes),
        "transactions": len(transactions),
        "events_per_transaction_mean": (
            round(sum(t.events for t in transactions) / len(transactions), 1)
            if transactions
            else None
        ),
    }


async def read_database(
    database_url: str, since: datetime | None = None
) -> tuple[dict[uuid.UUID, Assessed], list[Transaction]]:
    """Fraud's assessment outbox rows: each escalation's transaction start and assessment time,
    and every transaction's size and end."""
    import asyncpg
    from sqlalchemy.engine import make_url

    from shared.events import FraudAssessed, SellerEscalationFiled

    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        rows = await conn.fetch(
            "SELECT created_at, payload->>'subject_event_id' AS subject, "
            "payload->>'subject_type' AS subject_type, "
            "(payload->>'assessed_at')::timestamptz AS assessed_at "
            "FROM outbox WHERE ce_type = $1 AND ($2::timestamptz IS NULL OR created_at >= $2)",
            FraudAssessed.ce_type,
            since,
        )
    finally:
        await conn.close()
    assessed: dict[uuid.UUID, Assessed] = {}
    by_tx: dict[float, list[float]] = {}
    for r in rows:
        began, at = r["created_at"].timestamp(), r["assessed_at"].timestamp()
        by_tx.setdefault(began, []).append(at)
        if r["subject_type"] == SellerEscalationFiled.ce_type and r["subject"]:
            subject = uuid.UUID(r["subject"])
            # The first assessment is the one the pipeline waits for (not a later revision).
            if subject not in assessed or began < assessed[subject].began:
                assessed[subject] = Assessed(subject, began, at)
    transactions = [Transaction(b, max(ats), len(ats)) for b, ats in by_tx.items()]
    return assessed, transactions


async def waits(
    database_url: str,
    escalations: Mapping[uuid.UUID, float],
    published: Mapping[uuid.UUID, float],
    since: datetime | None = None,
) -> dict[str, Any]:
    assessed, transactions = await read_database(database_url, since)
    return split(escalations, published, assessed, transactions)


async def _from_topics(bootstrap: str) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, float]]:
    """Escalation records' timestamps, and each subject's first assessment record's."""
    from aiokafka import AIOKafkaConsumer

    from shared.events import FRAUD_ASSESSMENTS, INTAKE_RETURNS, SellerEscalationFiled

    escalations: dict[uuid.UUID, float] = {}
    published: dict[uuid.UUID, float] = {}
    consumer = AIOKafkaConsumer(
        INTAKE_RETURNS.name,
        FRAUD_ASSESSMENTS.name,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        idle = 0
        while idle < 3:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            idle = 0 if batches else idle + 1
            for tp, records in batches.items():
                for record in records:
                    ts = record.timestamp / 1000
                    if tp.topic == INTAKE_RETURNS.name:
                        headers = {k: v.decode() for k, v in record.headers or ()}
                        if headers.get("ce_type") == SellerEscalationFiled.ce_type:
                            escalations[uuid.UUID(headers["ce_id"])] = ts
                    else:
                        subject = json.loads(record.value or b"{}").get("subject_event_id")
                        if subject:
                            published.setdefault(uuid.UUID(subject), ts)
    finally:
        await consumer.stop()
    return escalations, published


async def _main(database_url: str, bootstrap: str) -> None:
    escalations, published = await _from_topics(bootstrap)
    print(json.dumps(await waits(database_url, escalations, published), indent=2))


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
