"""Each planted pilferer's first HIGH (entity risk history, event time) on a fraud-world run's
fraud database, and days from its first planted event (read-only).
    python pilferer_days.py SEED PGPORT"""

import asyncio
import sys
from datetime import UTC, datetime

import asyncpg

from disputedesk.fraudworld.world import build_world

seed, port = int(sys.argv[1]), int(sys.argv[2])
world = build_world(seed, end=datetime(2026, 12, 6, 15, tzinfo=UTC))


async def main() -> None:
    conn = await asyncpg.connect(f"postgresql://postgres:postgres@127.0.0.1:{port}/fworld_fraud")
    for etype, ids in world.truth["pilferage"].items():
        for eid in sorted(ids):
            first = await conn.fetchval(
                "select min(as_of) from entity_risk_history where entity_type=$1 and entity_id=$2"
                " and band='HIGH' and reasons::text like '%PILFERAGE%'",
                etype,
                eid,
            )
            start = world.first_planted.get((etype, eid))
            days = (first - start).total_seconds() / 86400 if first and start else None
            print(f"{etype} {eid} first HIGH {first} first planted {start} days {days}")
    await conn.close()


asyncio.run(main())
