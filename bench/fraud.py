"""Fraud scoring benchmark: an escalation's assessment in a network of many buyers.

Every claim weighs the buyer it names against the robust baseline of all other buyers. Fraud
keeps that baseline between events for a large population (scoring.baselines); this benchmark
measures what that buys, in one run, against the baseline of reading every buyer per claim:

  read_every_claim   the peer cache off (min_peers beyond any population): the baseline;
  reuse_baseline     the service's default policy.

Both score the same return journeys (return, pickup, delivery, wrong-item claim) in real time,
one transaction per event as the consumer's worst case, into two copies of one seeded database
of BENCH_FRAUD_BUYERS buyers (default 100,000) with 120 days of deliveries and claims.
Reports the claim's assessment time (p50, p95) and events per second, and their ratios.

`python -m bench fraud` (the bench stack), or `python -m bench.fraud`. Writes
bench-results/fraud.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL = "reuse_baseline claim assessment p50 <= 0.2 of read_every_claim's, same run"


def _seed_sql(buyers: int) -> str:
    # Each buyer: deliveries on three days of the last 120, and one in twenty named in a claim.
    return f"""
        INSERT INTO feature_counts (entity_type, entity_id, metric, day, n)
        SELECT 'buyer', 'B-' || lpad(b::text, 7, '0'), 'delivered',
               current_date - ((b * 7 + k * 37) % 120), 1
        FROM generate_series(1, {buyers}) AS b, generate_series(0, 2) AS k
        ON CONFLICT DO NOTHING;
        INSERT INTO feature_counts (entity_type, entity_id, metric, day, n)
        SELECT 'buyer', 'B-' || lpad(b::text, 7, '0'), 'named_claims',
               current_date - ((b * 7) % 120), 1
        FROM generate_series(1, {buyers}) AS b WHERE b % 20 = 0;
        ANALYZE feature_counts;
    """


def _journey(i: int, buyers: int, rng: random.Random, at: datetime) -> list[Any]:
    from shared.events import (
        ReturnInitiated,
        ReturnShipmentEvent,
        SellerEscalationFiled,
        ShipmentEventType,
    )

    rid = f"R-BENCH-{i:06d}"
    buyer = f"B-{rng.randint(1, buyers):07d}"
    seller = f"S-{rng.randint(1, 200):04d}"
    agent, hub = f"AG-{rng.randint(1, 30)}", f"H-{rng.randint(1, 10)}"
    events: list[Any] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id=seller,
            buyer_id=buyer,
            category="home",
            item_value=250_000,
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=at,
        )
    ]
    for kind in (ShipmentEventType.PICKED_UP, ShipmentEventType.DELIVERED_TO_SELLER):
        events.append(
            ReturnShipmentEvent(
                event_id=uuid.uuid4(),
                partner_id="swiftship",
                partner_event_id=f"pe-{rid}-{kind}",
                return_id=rid,
                awb=f"AWB-{rid}",
                event_type=kind,
                occurred_at=at,
                hub_id=hub,
                agent_id=agent,
                weight_g=900,
                pod_otp_verified=True,
                raw_ref=f"raw-{rid}-{kind}",
            )
        )
    events.append(
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id=seller,
            claim_type="WRONG_ITEM",
            claimed_amount=250_000,
            description="not the item we sold",
            channel="EMAIL",
            filed_at=at,
            filed_by="bench",
            evidence=[],
        )
    )
    return events


async def _score(url: str, journeys: int, buyers: int, *, cached: bool) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from services.fraud.scoring.service import assess_event, default_config
    from shared.events import SellerEscalationFiled

    config = default_config()
    if not cached:
        config = replace(config, baselines=replace(config.baselines, min_peers=10**12))
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rng = random.Random(7)
    claim_ms: list[float] = []
    events = 0
    started = time.perf_counter()
    try:
        for i in range(journeys):
            for payload in _journey(i, buyers, rng, datetime.now(UTC)):
                t0 = time.perf_counter()
                async with sessions() as session, session.begin():
                    await assess_event(
                        session, payload=payload, subject_event_id=uuid.uuid4(), config=config
                    )
                events += 1
                if isinstance(payload, SellerEscalationFiled):
                    claim_ms.append((time.perf_counter() - t0) * 1000)
            if (i + 1) % 50 == 0:
                print(
                    f"  {'reuse_baseline' if cached else 'read_every_claim'}: "
                    f"{i + 1}/{journeys} journeys",
                    flush=True,
                )
    finally:
        await engine.dispose()
    wall = time.perf_counter() - started
    claim_ms.sort()
    return {
        "claims": len(claim_ms),
        "claim_ms_p50": round(statistics.median(claim_ms), 2),
        "claim_ms_p95": round(claim_ms[int(0.95 * (len(claim_ms) - 1))], 2),
        "events_per_s": round(events / wall, 1),
    }


async def run() -> dict[str, Any]:
    import asyncpg

    from disputedesk.stack import Stack
    from shared.migrations import upgrade

    buyers = int(os.environ.get("BENCH_FRAUD_BUYERS", 100_000))
    journeys = int(os.environ.get("BENCH_FRAUD_JOURNEYS", 100))
    stack = Stack.from_env()
    template, copies = "bench_fraud_seeded", ["bench_fraud_every", "bench_fraud_reuse"]
    for db in (template, *copies):
        stack.postgres.drop_database(db)
    stack.postgres.create_database(template)
    url = stack.postgres.database_url(template)
    await asyncio.to_thread(upgrade, "fraud", url)
    print(f"seeding {buyers:,} buyers ...", flush=True)
    t0 = time.perf_counter()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_seed_sql(buyers))
        rows = await conn.fetchval("SELECT count(*) FROM feature_counts")
    finally:
        await conn.close()
    seed_s = time.perf_counter() - t0
    admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        for db in copies:
            await admin.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    every = await _score(stack.postgres.database_url(copies[0]), journeys, buyers, cached=False)
    reuse = await _score(stack.postgres.database_url(copies[1]), journeys, buyers, cached=True)
    result = {
        "benchmark": "fraud: a claim's assessment against the baseline of every other buyer",
        "measured_at": datetime.now(UTC).isoformat(),
        "settings": {
            "buyers": buyers,
            "feature_rows": rows,
            "journeys": journeys,
            "events_per_journey": 4,
            "seed_seconds": round(seed_s, 1),
            "transaction": "one per event",
        },
        "read_every_claim": every,
        "reuse_baseline": reuse,
        "ratios": {
            "claim_ms_p50": round(reuse["claim_ms_p50"] / every["claim_ms_p50"], 3),
            "claim_ms_p95": round(reuse["claim_ms_p95"] / every["claim_ms_p95"], 3),
            "events_per_s": round(reuse["events_per_s"] / every["events_per_s"], 3),
        },
        "goal": GOAL,
    }
    result["goal_met"] = result["ratios"]["claim_ms_p50"] <= 0.2
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "fraud.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    """`python -m bench fraud` passes the bench stack's env; the stack in
    $DISPUTEDESK_STATE_DIR otherwise."""
    result = asyncio.run(run())
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
