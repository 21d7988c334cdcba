"""CPU per event of fraud's and notifications' handlers, the outbox relay and the consumer runner,
old code against new in one run.

The end-to-end benchmark's CPU table is the figure that counts, but on a shared machine its
per-service numbers move by tens of percent between runs, more than one cut changes. This
benchmark isolates a consumer's own work: it feeds a fixed stream of events to the service's
real handlers, in consumer-sized batches of one transaction each, on a fresh database of the
real PostgreSQL, and measures the process's CPU (`time.process_time`) and the statements sent.
For the two services no Kafka: the runner around their handlers is measured on its own.

`python bench/consumer_cpu.py compare --code base=DIR --code cut=DIR ... --rounds 3` runs the
code checked out in each DIR (e.g. `git archive <commit> | tar -x -C DIR`), alternately,
`rounds` times each, in subprocesses, and writes the medians and each code's ratio to the
first's per service (bench-results/consumer_cpu.json, or --out). One
measurement alone: `python bench/consumer_cpu.py run fraud|notifications [--code DIR]`.

`relay` and `runner` measure the paths every service shares, on reconciliation's tables: the
outbox relay publishing committed rows to a topic of their own on the real Kafka, and the
consumer runner (decoding, inbox claim, trace and log context, transaction) around a handler
that does nothing, fed a stream once and then again as redeliveries. `batch_write` measures
reconciliation's consumer batch writing the rows its handlers queued (timeline, outbox, ledger),
an event being one decided case. Their stream size is BENCH_CPU_SHARED_EVENTS (default 3,000).
`decisions` measures reconciliation's whole decision path without Kafka: BENCH_CPU_DECISIONS
ready cases (default 1,500, seeded as bench/reconciliation.py seeds them) decided by their fraud
assessments through the real batch handler, 500 to a transaction, the process's CPU and
PostgreSQL's per decision.

Fraud's stream also reports each kind of assessment's CPU and wall time (a claim, a terminal
scan, every other event; `claim_cpu_ms`, `claim_wall_ms`, ...). BENCH_CPU_SELLERS (default 150,
over three categories) sets its sellers, BENCH_CPU_ONE_CATEGORY=1 puts them all in one: the
end-to-end traffic's 2,000 sellers of one category make a claim's peers hundreds.

Stream sizes: BENCH_CPU_FRAUD_RETURNS (default 400 returns, about 1,700 events),
BENCH_CPU_NOTIFY_CASES (default 400 cases, 2,400 events), BENCH_CPU_BATCH (default 100 events per
transaction). Needs the local stack (`disputedesk stack up`, its environment exported).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 6, 1, 6, tzinfo=UTC)
SERVICES = ("fraud", "notifications")
# The paths every service shares: the outbox relay and the consumer runner (inbox and all).
SHARED = ("relay", "runner", "batch_write", "decisions", "notifications_skipped")


def _fraud_events(returns: int) -> list[Any]:
    """Return journeys through a network of BENCH_CPU_HUBS hubs (default 40) of
    BENCH_CPU_AGENTS_PER_HUB agents (10): picked up, scanned at a second hub, delivered (the
    terminal scan that runs the pilferage tests), a third claimed. A share BENCH_CPU_QC_SHARE
    (default 0) of the returns require QC: their pickup agent passes QC at the pickup hub, and
    their claims are wrong or used items (the QC contradiction step runs for each)."""
    from shared.events import (
        ClaimType,
        ReturnInitiated,
        ReturnShipmentEvent,
        SellerEscalationFiled,
        ShipmentEventType,
    )

    rng = random.Random(20)
    # Its own draws: the stream without QC stays the one measured before.
    qc_rng = random.Random(21)
    qc_share = float(os.environ.get("BENCH_CPU_QC_SHARE", "0"))
    hubs = int(os.environ.get("BENCH_CPU_HUBS", "40"))
    per_hub = int(os.environ.get("BENCH_CPU_AGENTS_PER_HUB", "10"))
    # The end-to-end traffic's sellers are 2,000 in one category: a claim's peers are hundreds.
    sellers = int(os.environ.get("BENCH_CPU_SELLERS", "150"))
    one_category = os.environ.get("BENCH_CPU_ONE_CATEGORY") == "1"
    timed: list[tuple[datetime, int, Any]] = []
    for i in range(returns):
        rid = f"R-CPU-{i:05d}"
        at = START + timedelta(minutes=7 * i)
        hub, hub2 = rng.randrange(hubs), rng.randrange(hubs)
        agent = f"AG-{hub}-{rng.randrange(per_hub)}"
        seller, buyer = f"S-{rng.randrange(sellers)}", f"B-{rng.randrange(3000)}"
        qc = qc_rng.random() < qc_share
        category = rng.choice(["electronics", "home", "fashion"])
        timed.append(
            (
                at,
                i,
                ReturnInitiated(
                    return_id=rid,
                    order_id=f"O-{rid}",
                    seller_id=seller,
                    buyer_id=buyer,
                    category="home" if one_category else category,
                    item_value=rng.randrange(20_000, 400_000),
                    qc_required=qc,
                    partner_id=rng.choice(["swiftship", "rapidroute", "desipost"]),
                    awb=f"AWB-{rid}",
                    initiated_at=at,
                ),
            )
        )
        scans = (
            *(((ShipmentEventType.QC_PASSED, f"H-{hub}", agent, 5),) if qc else ()),
            (ShipmentEventType.PICKED_UP, f"H-{hub}", agent, 6),
            (ShipmentEventType.AT_HUB, f"H-{hub2}", None, 20),
            (ShipmentEventType.DELIVERED_TO_SELLER, f"H-{hub2}", agent, 40),
        )
        for kind, hub_id, agent_id, hours in scans:
            timed.append(
                (
                    at + timedelta(hours=hours),
                    i,
                    ReturnShipmentEvent(
                        event_id=uuid.uuid4(),
                        partner_id="swiftship",
                        partner_event_id=f"pe-{rid}-{kind}",
                        return_id=rid,
                        awb=f"AWB-{rid}",
                        event_type=kind,
                        occurred_at=at + timedelta(hours=hours),
                        hub_id=hub_id,
                        agent_id=agent_id,
                        weight_g=900 if rng.random() > 0.03 else 500,
                        pod_otp_verified=True,
                        raw_ref=f"raw-{rid}-{kind}",
                    ),
                )
            )
        if i % 3 == 0:
            filed = at + timedelta(hours=44)
            timed.append(
                (
                    filed,
                    i,
                    SellerEscalationFiled(
                        escalation_id=f"ESC-{rid}",
                        return_id=rid,
                        seller_id=seller,
                        claim_type=(
                            qc_rng.choice([ClaimType.WRONG_ITEM, ClaimType.USED_ITEM])
                            if qc
                            else rng.choice([ClaimType.DAMAGED, ClaimType.WRONG_ITEM])
                        ),
                        claimed_amount=100_000,
                        description="arrived broken",
                        channel="EMAIL",
                        filed_at=filed,
                        filed_by="bench",
                        evidence=[
                            {
                                "kind": "PHOTO",
                                "uri": f"https://evidence.example/{rid}.jpg",
                                "sha256": f"{i:064x}",
                                "captured_at": filed.isoformat(),
                            }
                        ],
                    ),
                )
            )
    timed.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in timed]


def _notification_events(cases: int) -> list[Any]:
    """Case histories as reconciliation publishes them: opened (an acknowledgement), evidence
    added, a note, put under review without a new date, decided (an email), settled."""
    from services.notifications.catalogue import samples
    from shared.events import (
        CaseEventBase,
        CaseNoteAdded,
        CaseState,
        CaseUnderReview,
        CaseUpdated,
    )

    out: list[Any] = []
    for i in range(cases):
        case_id = f"CASE-CPU-{i:05d}"
        at = START + timedelta(minutes=i)
        seller = {"seller_id": f"S-{i % 150}"}
        # The fields every case event shares: CaseOpened's own (its trigger, the dates it
        # promises) are refused by the other events' contracts.
        opened = samples.case_opened(case_id, at, **seller).model_dump()
        base = {k: v for k, v in opened.items() if k in CaseEventBase.model_fields}
        out.append(samples.case_opened(case_id, at, **seller))
        out.append(
            CaseUpdated(
                **base
                | {"case_version": 2, "change": "EVIDENCE_ADDED", "previous_state": CaseState.OPEN}
            )
        )
        out.append(
            CaseNoteAdded(**base | {"case_version": 3, "note": "partner asked for the AWB photo"})
        )
        out.append(
            CaseUnderReview(
                **base
                | {
                    "case_version": 4,
                    "state": CaseState.UNDER_REVIEW,
                    "previous_state": CaseState.OPEN,
                }
            )
        )
        out.append(samples.case_decided(case_id, at, case_version=5, **seller))
        out.append(samples.case_settled(case_id, at, case_version=6, **seller))
    return out


def _postgres_cpu_s() -> float:
    """CPU seconds of this stack's PostgreSQL: the server, its live processes (the benchmark's
    backend, autovacuum, the writers) and the ones it has reaped (an autovacuum worker that
    ended during the run). The server is found by its data folder under DISPUTEDESK_STATE_DIR;
    0 when there is none (an external PostgreSQL)."""
    import psutil

    pid_file = Path(os.environ.get("DISPUTEDESK_STATE_DIR", "")) / "postgres/data/postmaster.pid"
    try:
        server = psutil.Process(int(pid_file.read_text().split()[0]))
        own = server.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in server.children(recursive=True):
            times = child.cpu_times()
            total += times.user + times.system
    except (OSError, ValueError, psutil.Error):
        return 0.0
    return total


# The statements sent so far by the measured engine (`_counting`), for the per-kind figures.
_SENT = [0]


@contextmanager
def _counting(engine: Any) -> Iterator[list[int]]:
    from sqlalchemy import event

    sent = [0]

    def note(*_: Any) -> None:
        sent[0] += 1
        _SENT[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def _heap_as_in_a_service() -> None:
    """The cycle collector as a running service has it (`shared.heap.frozen_after_start`): the
    heap built so far frozen, the young generation's threshold raised. With CPython's defaults
    the measured loop walked the whole imported heap in full collections (0.3 s of fraud's
    12 s over 1,200 returns), which the services do not."""
    try:
        from shared.heap import YOUNG_THRESHOLD
    except ImportError:  # code from before shared/heap.py
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _timed_pilferage() -> dict[str, float]:
    """Accumulate the CPU time of fraud's pilferage step (the agents' and hubs' tests that a
    terminal scan runs), to check what it costs per terminal scan."""
    from services.fraud.scoring.pilferage import PilferageInputs

    spent = {"cpu_s": 0.0, "calls": 0}
    original = PilferageInputs.pilferage

    async def timed(self: Any, facts: Any) -> None:
        began = time.process_time()
        try:
            await original(self, facts)
        finally:
            spent["cpu_s"] += time.process_time() - began
            spent["calls"] += 1

    PilferageInputs.pilferage = timed  # type: ignore[method-assign]
    return spent


def _timed_assessments() -> dict[str, dict[str, float]]:
    """Accumulate the CPU and wall time of fraud's assessments by the kind of event: a claim (an
    escalation: its context reads, the seller's and buyer's tests, the peers' baselines they
    weigh), a terminal scan (the pilferage step) and every other event. Each kind runs under a
    frame of its own (`_assess_claim`, `_assess_terminal_scan`, `_assess_other`), so a
    sampling profile of the run splits by kind too."""
    from services.fraud.features.service import TERMINAL
    from services.fraud.scoring import service
    from shared.events import ReturnShipmentEvent, SellerEscalationFiled

    spent = {
        kind: {"cpu_s": 0.0, "wall_s": 0.0, "calls": 0, "statements": 0}
        for kind in ("claim", "terminal_scan", "other")
    }
    original = service.assess_event

    async def timed(kind: str, *args: Any, **kwargs: Any) -> Any:
        began, wall, sent = time.process_time(), time.perf_counter(), _SENT[0]
        try:
            return await original(*args, **kwargs)
        finally:
            spent[kind]["cpu_s"] += time.process_time() - began
            spent[kind]["wall_s"] += time.perf_counter() - wall
            spent[kind]["statements"] += _SENT[0] - sent
            spent[kind]["calls"] += 1

    async def _assess_claim(*args: Any, **kwargs: Any) -> Any:
        return await timed("claim", *args, **kwargs)

    async def _assess_terminal_scan(*args: Any, **kwargs: Any) -> Any:
        return await timed("terminal_scan", *args, **kwargs)

    async def _assess_other(*args: Any, **kwargs: Any) -> Any:
        return await timed("other", *args, **kwargs)

    async def by_kind(*args: Any, **kwargs: Any) -> Any:
        payload = kwargs["payload"]
        if isinstance(payload, SellerEscalationFiled):
            return await _assess_claim(*args, **kwargs)
        if isinstance(payload, ReturnShipmentEvent) and payload.event_type in TERMINAL:
            return await _assess_terminal_scan(*args, **kwargs)
        return await _assess_other(*args, **kwargs)

    service.assess_event = by_kind
    return spent


def _shared_events(n: int) -> list[Any]:
    """n returns opened, each with a trace context as a relayed event carries one: the shared
    paths (relay, consumer runner) do the same work whatever the event, so one type serves."""
    from shared.events import ReturnInitiated

    return [
        ReturnInitiated(
            return_id=f"R-SH-{i:06d}",
            order_id=f"O-{i:06d}",
            seller_id=f"S-{i % 150}",
            buyer_id=f"B-{i % 3000}",
            category="electronics",
            item_value=100_000 + i,
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-SH-{i:06d}",
            initiated_at=START + timedelta(minutes=i),
        )
        for i in range(n)
    ]


def _traceparent(i: int) -> str:
    return f"00-{uuid.UUID(int=i + 1).hex}-{(i + 1):016x}-01"


async def _measure_relay(url: str, bootstrap: str) -> dict[str, Any]:
    """The outbox relay publishing BENCH_CPU_SHARED_EVENTS (default 3,000) committed rows to a
    topic of their own, in its own batches, until none is left; the rows are written before
    the clock starts."""
    from aiokafka import AIOKafkaProducer
    from sqlalchemy import insert

    from services.reconciliation.models import Outbox
    from shared.db import make_engine, make_sessionmaker
    from shared.kafka.admin import ensure_topics
    from shared.outbox import OutboxRelay, outbox_row

    topic = f"bench.cpu.relay.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, partitions=6, names=[topic])
    events = _shared_events(int(os.environ.get("BENCH_CPU_SHARED_EVENTS", "3000")))
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    for start in range(0, len(events), 500):
        rows = []
        for i, event in enumerate(events[start : start + 500], start):
            _, row = outbox_row(event, source="bench")
            rows.append({**row, "topic": topic, "traceparent": _traceparent(i)})
        async with sessions() as session, session.begin():
            await session.execute(insert(Outbox), rows)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    relay = OutboxRelay(
        service="bench", sessionmaker=sessions, outbox_model=Outbox, producer=producer
    )
    rounds = 0
    try:
        with _counting(engine) as sent:
            began, wall = time.process_time(), time.perf_counter()
            while await relay.publish_batch():
                rounds += 1
            cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
    finally:
        await producer.stop()
        await engine.dispose()
    return {
        "service": "relay",
        "events": len(events),
        "transactions": rounds,
        "cpu_ms_per_event": round(1000 * cpu / len(events), 4),
        "wall_ms_per_event": round(1000 * elapsed / len(events), 4),
        "statements_per_event": round(sent[0] / len(events), 3),
    }


async def _measure_batch_write(url: str) -> dict[str, Any]:
    """Reconciliation's consumer batch writing the rows its handlers queued
    (`facts.batch.BatchView.write`): per decided case two outbox rows with their events'
    documents, their two timeline rows, a ledger transaction and four entries; in batches of
    500 cases (a full poll), BENCH_CPU_SHARED_EVENTS cases in all, each batch one transaction.
    The timeline's foreign key to cases is dropped in this database: the rows name cases that
    are not seeded, and the inserts' cost is the subject."""
    from sqlalchemy import text

    from services.reconciliation.facts.batch import BatchView
    from shared.db import make_engine, make_sessionmaker
    from shared.outbox import outbox_row

    events = _shared_events(int(os.environ.get("BENCH_CPU_SHARED_EVENTS", "3000")))
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(
            text("ALTER TABLE case_timeline DROP CONSTRAINT IF EXISTS case_timeline_case_id_fkey")
        )
    batches = []
    for start in range(0, len(events), 500):
        view = BatchView(return_ids=set())
        for i, event in enumerate(events[start : start + 500], start):
            case_id, tx = f"CASE-{i:06d}", uuid.uuid4()
            for version in (1, 2):
                _, row = outbox_row(event, source="bench")
                view.outbox.append({**row, "traceparent": _traceparent(i)})
                view.timeline.append(
                    {
                        "case_id": case_id,
                        "case_version": version,
                        "kind": "CaseDecided",
                        "actor": "system",
                        "reason": "Decided under rule L6.",
                        "data": {"event": row["payload"]},
                        "occurred_at": START,
                    }
                )
            view.ledger_transactions.append(
                {
                    "transaction_id": tx,
                    "case_id": case_id,
                    "kind": "SETTLEMENT",
                    "reverses": None,
                    "policy_version": "sop-v1",
                    "description": "Settlement.",
                    "posted_at": START,
                }
            )
            view.ledger_entries += [
                {
                    "transaction_id": tx,
                    "case_id": case_id,
                    "account": account,
                    "account_type": "LIABILITY",
                    "counterparty_id": event.seller_id,
                    "amount": amount,
                    "posted_at": START,
                }
                for account, amount in (("a", 500), ("b", -500), ("c", 120), ("d", -120))
            ]
        batches.append(view)
    try:
        with _counting(engine) as sent:
            began, wall = time.process_time(), time.perf_counter()
            for view in batches:
                async with sessions() as session, session.begin():
                    await view.write(session)
            cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
    finally:
        await engine.dispose()
    return {
        "service": "batch_write",
        "events": len(events),
        "transactions": len(batches),
        "cpu_ms_per_event": round(1000 * cpu / len(events), 4),
        "wall_ms_per_event": round(1000 * elapsed / len(events), 4),
        "statements_per_event": round(sent[0] / len(events), 3),
    }


async def _measure_decisions(url: str) -> dict[str, Any]:
    """Reconciliation's handlers deciding ready cases (`cases.handlers.handle_batch`: the batch's
    facts, the SOP, the decision, its ledger lines, its events and timeline rows), as the
    engine's consumer hands them over, less the runner (inbox, Kafka). Each case must end
    CLOSED, or the run measured something else."""
    import gc

    from sqlalchemy import text

    from bench.reconciliation import _postgres_cpu_s, _seed_ready_cases
    from disputedesk.stack import Stack
    from services.reconciliation import wiring
    from services.reconciliation.cases.handlers import handlers
    from shared.db import make_engine, make_sessionmaker
    from shared.envelope import Envelope
    from shared.kafka.consumer import HandlerContext
    from tests.support.reconciliation import assessed

    wiring.install()  # the settlement hooks the app installs at start-up

    n = int(os.environ.get("BENCH_CPU_DECISIONS", "1500"))
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    assert handlers.batch_handler is not None
    try:
        escalations = await _seed_ready_cases(sessions, n)
        scores = [Envelope(assessed(e), source="bench") for e in escalations]
        server = Stack.from_env(dict(os.environ)).postgres.process()
        # As the app does once it has started (shared/heap.py): the seed's objects frozen, young
        # collections every 50,000 allocations.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, *gc.get_threshold()[1:])
        with _counting(engine) as sent:
            pg_began = _postgres_cpu_s(server)
            began, wall = time.process_time(), time.perf_counter()
            for start in range(0, n, 500):
                async with sessions() as session, session.begin():
                    await handlers.batch_handler(
                        [
                            HandlerContext(session, e, "bench", "reconciliation")
                            for e in scores[start : start + 500]
                        ]
                    )
            cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
            pg_ended = _postgres_cpu_s(server)
        async with sessions() as session:
            closed = (
                await session.execute(text("SELECT count(*) FROM cases WHERE state = 'CLOSED'"))
            ).scalar()
    finally:
        gc.unfreeze()
        await engine.dispose()
    if closed != n:
        raise RuntimeError(f"{n - (closed or 0)} of {n} cases were not decided and settled")
    pg_ms = (
        round(1000 * (pg_ended - pg_began) / n, 4)
        if pg_began is not None and pg_ended is not None
        else None
    )
    return {
        "service": "decisions",
        "events": n,
        "transactions": -(-n // 500),
        "cpu_ms_per_event": round(1000 * cpu / n, 4),
        "postgres_cpu_ms_per_event": pg_ms,
        "wall_ms_per_event": round(1000 * elapsed / n, 4),
        "statements_per_event": round(sent[0] / n, 3),
    }


async def _measure_notifications_skipped(url: str) -> dict[str, Any]:
    """What a case event that leads to no email costs notifications: the case events of the
    notifications stream its handlers would do nothing with (an evidence note while the case
    is open, a note that is no call with the seller), each as a consumer record through the
    real runner with notifications' handlers, in batches of BENCH_CPU_BATCH. The process's CPU
    per event and the statements sent (none are expected: no transaction, no inbox row)."""
    from services.notifications.messages.handlers import build_handlers
    from services.notifications.models import Inbox
    from services.notifications.settings import NotificationsSettings
    from shared.clock import SystemClock
    from shared.db import make_engine, make_sessionmaker
    from shared.envelope import Envelope
    from shared.kafka.consumer import ConsumerRunner
    from shared.kafka.records import consumer_record
    from shared.keys import PII_PRIVATE_KEYS, load_key_list
    from shared.pii import ContactOpener

    handlers = build_handlers(
        NotificationsSettings(),
        SystemClock(),
        ContactOpener(load_key_list(PII_PRIVATE_KEYS, purpose="bench")),
    )
    stream = _notification_events(int(os.environ.get("BENCH_CPU_NOTIFY_CASES", "400")))
    records = []
    for event in stream:
        env = Envelope(event, source="bench", traceparent=_traceparent(len(records)))
        if not handlers.acts_on(env):
            records.append(consumer_record(env, topic="bench", offset=len(records)))
    engine = make_engine(url, pool_size=2)
    runner = ConsumerRunner(
        service="bench",
        group_id="bench-cpu",
        topics=["bench"],
        handlers=handlers,
        sessionmaker=make_sessionmaker(engine),
        inbox_model=Inbox,
        producer=None,  # type: ignore[arg-type]  # only dead letters use it, and none occur
        bootstrap_servers="",
    )
    batch = int(os.environ.get("BENCH_CPU_BATCH", "100"))
    rounds = 5  # the stream is small and cheap: several passes for a measurable time
    try:
        with _counting(engine) as sent:
            _heap_as_in_a_service()
            began, wall = time.process_time(), time.perf_counter()
            for _ in range(rounds):
                for start in range(0, len(records), batch):
                    await runner._handle_records("bench", records[start : start + batch])
            cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
    finally:
        await engine.dispose()
    events = rounds * len(records)
    return {
        "service": "notifications_skipped",
        "events": events,
        "cpu_ms_per_event": round(1000 * cpu / events, 4),
        "wall_ms_per_event": round(1000 * elapsed / events, 4),
        "statements_per_event": round(sent[0] / events, 3),
    }


async def _measure_runner(url: str) -> dict[str, Any]:
    """The consumer runner around a handler that does nothing: decoding, the inbox claim, the
    per-event trace and log context, the transaction, for BENCH_CPU_SHARED_EVENTS events in
    batches of BENCH_CPU_BATCH, then the same stream again (all duplicates, as after a crash)."""
    from services.reconciliation.models import Inbox
    from shared.db import make_engine, make_sessionmaker
    from shared.envelope import Envelope
    from shared.events import ReturnInitiated
    from shared.kafka.consumer import ConsumerRunner, EventHandlers
    from shared.kafka.records import consumer_record

    handlers = EventHandlers()
    handled = [0]

    @handlers.on(ReturnInitiated)
    async def opened(event: ReturnInitiated, ctx: Any) -> None:
        handled[0] += 1

    events = _shared_events(int(os.environ.get("BENCH_CPU_SHARED_EVENTS", "3000")))
    records = []
    for i, event in enumerate(events):
        env = Envelope(event, source="bench", traceparent=_traceparent(i))
        records.append(consumer_record(env, topic="bench", offset=i))
    engine = make_engine(url, pool_size=2)
    runner = ConsumerRunner(
        service="bench",
        group_id="bench-cpu",
        topics=["bench"],
        handlers=handlers,
        sessionmaker=make_sessionmaker(engine),
        inbox_model=Inbox,
        producer=None,  # type: ignore[arg-type]  # only dead letters use it, and none occur
        bootstrap_servers="",
    )
    batch = int(os.environ.get("BENCH_CPU_BATCH", "100"))
    try:
        with _counting(engine) as sent:
            began, wall = time.process_time(), time.perf_counter()
            for _ in range(2):
                for start in range(0, len(records), batch):
                    await runner._handle_records("bench", records[start : start + batch])
            cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
    finally:
        await engine.dispose()
    if handled[0] != len(events):
        raise RuntimeError(f"handled {handled[0]} of {len(events)} events once")
    return {
        "service": "runner",
        "events": 2 * len(records),
        "transactions": 2 * -(-len(records) // batch),
        "cpu_ms_per_event": round(1000 * cpu / (2 * len(records)), 4),
        "wall_ms_per_event": round(1000 * elapsed / (2 * len(records)), 4),
        "statements_per_event": round(sent[0] / (2 * len(records)), 3),
    }


async def _measure(service: str) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from disputedesk import credentials
    from disputedesk.stack import Stack
    from shared.envelope import Envelope
    from shared.kafka.consumer import HandlerContext
    from shared.migrations import upgrade

    for key, value in credentials.development_at_rest_keys().items():
        os.environ.setdefault(key, value)
    stack: Any = Stack.from_env(dict(os.environ))
    name = f"bench_cpu_{service}"
    stack.postgres.drop_database(name)
    stack.postgres.create_database(name)
    url = stack.postgres.database_url(name)
    # The shared paths run on reconciliation's outbox and inbox tables.
    await asyncio.to_thread(
        upgrade,
        service.partition("_")[0] if service.startswith(SERVICES) else "reconciliation",
        url,
    )
    if service == "relay":
        return await _measure_relay(url, stack.env()["KAFKA_BOOTSTRAP_SERVERS"])
    if service == "runner":
        return await _measure_runner(url)
    if service == "batch_write":
        return await _measure_batch_write(url)
    if service == "decisions":
        return await _measure_decisions(url)
    if service == "notifications_skipped":
        return await _measure_notifications_skipped(url)

    pilferage: dict[str, float] | None = None
    by_kind: dict[str, dict[str, float]] = {}
    if service == "fraud":
        from services.fraud.scoring.handlers import handlers

        events = _fraud_events(int(os.environ.get("BENCH_CPU_FRAUD_RETURNS", "400")))
        pilferage = _timed_pilferage()
        by_kind = _timed_assessments()
    else:
        from services.notifications.messages.handlers import build_handlers
        from services.notifications.settings import NotificationsSettings
        from shared.clock import SystemClock
        from shared.keys import PII_PRIVATE_KEYS, load_key_list
        from shared.pii import ContactOpener

        handlers = build_handlers(
            NotificationsSettings(),
            SystemClock(),
            ContactOpener(load_key_list(PII_PRIVATE_KEYS, purpose="bench")),
        )
        events = _notification_events(int(os.environ.get("BENCH_CPU_NOTIFY_CASES", "400")))

    acts_on = getattr(handlers, "acts_on", None)

    async def handle_batch(session: Any, envelopes: list[Any]) -> None:
        contexts = [HandlerContext(session, e, "bench", service) for e in envelopes]
        if handlers.batch_handler is not None:
            await handlers.batch_handler(contexts)
        else:
            for ctx in contexts:
                await handlers.dispatch(ctx)

    batch = int(os.environ.get("BENCH_CPU_BATCH", "100"))
    envelopes = [Envelope(e, source="bench") for e in events]
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    transactions = 0
    try:
        with _counting(engine) as sent:
            _heap_as_in_a_service()
            began, wall, pg = time.process_time(), time.perf_counter(), _postgres_cpu_s()
            for start in range(0, len(envelopes), batch):
                chunk = envelopes[start : start + batch]
                # What the consumer runner leaves out before a transaction (when the code has
                # such a filter): the events that cause nothing.
                if acts_on is not None:
                    chunk = [e for e in chunk if acts_on(e)]
                if not chunk:
                    continue
                async with sessions() as session, session.begin():
                    await handle_batch(session, chunk)
                transactions += 1
            cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
            pg = _postgres_cpu_s() - pg
    finally:
        await engine.dispose()
    result: dict[str, Any] = {
        "service": service,
        "events": len(envelopes),
        "transactions": transactions,
        "cpu_ms_per_event": round(1000 * cpu / len(envelopes), 3),
        "wall_ms_per_event": round(1000 * elapsed / len(envelopes), 3),
        "postgres_cpu_ms_per_event": round(1000 * pg / len(envelopes), 3),
        "statements_per_event": round(sent[0] / len(envelopes), 2),
    }
    if pilferage is not None and pilferage["calls"]:
        result["pilferage_cpu_ms_per_terminal_scan"] = round(
            1000 * pilferage["cpu_s"] / pilferage["calls"], 3
        )
        result["terminal_scans"] = int(pilferage["calls"])
    for kind, spent in by_kind.items():
        if spent["calls"]:
            # A whole assessment of the kind, from the handler's call to its return.
            result[f"{kind}_cpu_ms"] = round(1000 * spent["cpu_s"] / spent["calls"], 3)
            result[f"{kind}_wall_ms"] = round(1000 * spent["wall_s"] / spent["calls"], 3)
            result[f"{kind}_statements"] = round(spent["statements"] / spent["calls"], 2)
            result[f"{kind}s"] = int(spent["calls"])
    return result


def _run_in(code: Path, service: str) -> dict[str, Any]:
    """One measurement in a subprocess that imports the services from `code`."""
    env = dict(os.environ, PYTHONPATH=str(code), LOG_LEVEL="WARNING")
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "run", service, "--code", str(code)],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def compare(codes: list[tuple[str, Path]], services: list[str], rounds: int) -> dict[str, Any]:
    """Each code `rounds` times, alternating, per service; medians and each code's ratio to the
    first's."""
    report: dict[str, Any] = {}
    for service in services:
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in codes}
        for _ in range(rounds):
            for label, code in codes:
                runs[label].append(_run_in(code, service))
                print(service, label, json.dumps(runs[label][-1]), file=sys.stderr)
        med = {
            label: {
                k: statistics.median(r[k] for r in results)
                for k in results[0]
                if isinstance(results[0][k], int | float)
            }
            for label, results in runs.items()
        }
        first = med[codes[0][0]]
        report[service] = {
            "median": med,
            "ratio_to_" + codes[0][0]: {
                label: {k: round(v / first[k], 3) for k, v in m.items() if first.get(k)}
                for label, m in med.items()
            },
            "runs": runs,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run")
    one.add_argument("service", choices=[*SERVICES, *SHARED])
    one.add_argument("--code", type=Path, default=ROOT)
    both = sub.add_parser("compare")
    both.add_argument(
        "--code",
        action="append",
        required=True,
        metavar="LABEL=DIR",
        help="a checkout to measure; the first is the baseline the others are divided by",
    )
    both.add_argument("--rounds", type=int, default=3)
    both.add_argument("--out", type=Path, default=ROOT / "bench-results" / "consumer_cpu.json")
    both.add_argument("services", nargs="*", default=["fraud", "notifications"])
    args = parser.parse_args()
    if args.command == "run":
        # In place of this script's folder, whose modules (bench/profile.py) would shadow the
        # standard library's.
        sys.path[0] = str(args.code)
        profile = os.environ.get("BENCH_CPU_PROFILE")  # a pstats file of the run, when set
        if profile:
            import cProfile

            with cProfile.Profile() as prof:
                result = asyncio.run(_measure(args.service))
            prof.dump_stats(profile)
        else:
            result = asyncio.run(_measure(args.service))
        print(json.dumps(result))
    else:
        codes = [(c.partition("=")[0], Path(c.partition("=")[2]).resolve()) for c in args.code]
        report = compare(codes, args.services, args.rounds)
        print(json.dumps({s: r["ratio_to_" + codes[0][0]] for s, r in report.items()}, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
