"""A consumer batch's up-front reads of its returns' facts, main's four statements against the one
statement (`services/reconciliation/facts/batch.py: _read_facts`), alternated in one process on
one scratch database, so the machine's load falls on both alike.

    . env.sh; PYTHONPATH=/work/wt/lean3 python prepare_micro.py [BATCH] [READS] [ROUNDS]

Seeds 2,000 returns, each with three scans, an assessment of each scan and, for every fourth, an
evidence addition; each read takes BATCH random returns (9: reconciliation's events per
transaction under the e2e load, 2026-12-06) inside a transaction, as `prepare` does after the
cases' lock. Prints per round the process CPU and wall µs per read of each path."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import insert, select

from services.reconciliation.facts import batch
from services.reconciliation.models import (
    AssessmentRecord,
    EvidenceAddition,
    ReturnRecord,
    ShipmentEventRecord,
)
from shared.db import among, make_engine, make_sessionmaker
from shared.migrations import upgrade

BATCH = int(sys.argv[1]) if len(sys.argv) > 1 else 9
READS = int(sys.argv[2]) if len(sys.argv) > 2 else 300
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
RETURNS = 2000


async def four_statements(session, ids):  # main's reads, as prepare sent them
    returns, scans = ReturnRecord.__table__, ShipmentEventRecord.__table__
    additions, assessments = EvidenceAddition.__table__, AssessmentRecord.__table__
    out = []
    out.append(list(await session.execute(select(returns).where(among(returns.c.return_id, ids)))))
    out.append(list(await session.execute(select(scans).where(among(scans.c.return_id, ids)).order_by(scans.c.occurred_at, scans.c.event_id))))
    out.append(list(await session.execute(select(additions).where(among(additions.c.return_id, ids)).order_by(additions.c.added_at))))
    out.append(list(await session.execute(select(assessments).where(among(assessments.c.return_id, ids)).order_by(assessments.c.assessed_at))))
    return out


async def one_statement(session, ids):
    return await batch._read_facts(session, ids)


async def main() -> None:
    port = os.environ["DISPUTEDESK_PG_PORT"]
    server = f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"
    db = "lean3_prepare_micro"
    admin = await asyncpg.connect(server)
    await admin.execute(f"DROP DATABASE IF EXISTS {db}")
    await admin.execute(f"CREATE DATABASE {db}")
    await admin.close()
    url = f"postgresql+asyncpg://postgres:postgres@127.0.0.1:{port}/{db}"
    await asyncio.to_thread(upgrade, "reconciliation", url)
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    ids = [f"RET-MICRO-{i:05d}" for i in range(RETURNS)]
    async with sm() as s, s.begin():
        await s.execute(insert(ReturnRecord), [dict(return_id=r, ce_id=uuid.uuid4(), order_id="O" + r, seller_id="S1", buyer_id="B1", category="electronics", item_value=199_900, qc_required=False, partner_id="swiftship", awb="AWB" + r, initiated_at=t0) for r in ids])
        scans = [dict(event_id=uuid.uuid4(), ce_id=uuid.uuid4(), return_id=r, partner_id="swiftship", event_type=t, occurred_at=t0 + timedelta(hours=k), weight_g=1000, hub_id="HUB1", agent_id="AG1") for r in ids for k, t in enumerate(("PICKED_UP", "IN_TRANSIT", "DELIVERED_TO_SELLER"))]
        await s.execute(insert(ShipmentEventRecord), scans)
        await s.execute(insert(AssessmentRecord), [dict(assessment_id=uuid.uuid4(), subject_event_id=sc["event_id"], subject_type="ReturnShipmentEvent", return_id=sc["return_id"], escalation_id=None, band="LOW", score=0.1, reasons=[{"code": "BASE", "weight": 0.1}], model_version="m1", assessed_at=sc["occurred_at"]) for sc in scans])
        await s.execute(insert(EvidenceAddition), [dict(ce_id=uuid.uuid4(), escalation_id="ESC" + r, return_id=r, evidence=[{"kind": "photo", "url": "https://x/1"}], received_weight_g=990, added_at=t0) for r in ids[::4]])
    rng = random.Random(7)
    paths = {"four": four_statements, "one": one_statement}
    # Warm both (statements prepared on the pooled connections).
    for fn in paths.values():
        for _ in range(20):
            async with sm() as s, s.begin():
                await fn(s, sorted(rng.sample(ids, BATCH)))
    # The same rows from both paths.
    sample = sorted(rng.sample(ids, BATCH))
    async with sm() as s, s.begin():
        a = [[tuple(r) for r in t] for t in await four_statements(s, sample)]
        b = [[tuple(r) for r in t] for t in await one_statement(s, sample)]
    assert a == b, "paths differ"
    results = []
    for rnd in range(ROUNDS):
        order = ["four", "one"] if rnd % 2 == 0 else ["one", "four"]
        for name in order:
            batches = [sorted(rng.sample(ids, BATCH)) for _ in range(READS)]
            c0, w0 = time.process_time(), time.perf_counter()
            for chosen in batches:
                async with sm() as s, s.begin():
                    await paths[name](s, chosen)
            c1, w1 = time.process_time(), time.perf_counter()
            results.append({"round": rnd + 1, "path": name, "cpu_us_per_read": round((c1 - c0) / READS * 1e6, 1), "wall_us_per_read": round((w1 - w0) / READS * 1e6, 1)})
            print(json.dumps(results[-1]), flush=True)
    await engine.dispose()
    print(json.dumps({"batch": BATCH, "reads": READS, "rounds": ROUNDS, "load": os.getloadavg()}))


asyncio.run(main())
