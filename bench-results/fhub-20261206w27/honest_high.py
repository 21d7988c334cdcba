"""The honest escalations scored HIGH on a fraud-world run (read-only): claims of the world
with no planted pattern whose latest assessment is HIGH, with their reason codes.
    python honest_high.py SEED PGPORT [END_ISO]"""

import asyncio
import sys
from datetime import UTC, datetime

import asyncpg

from disputedesk.fraudworld.world import build_world

seed, port = int(sys.argv[1]), int(sys.argv[2])
end = datetime.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else datetime(2026, 12, 6, 15, tzinfo=UTC)
world = build_world(seed, end=end)
honest = {r.return_id: r for r, c in world.claims if not c.patterns}


async def main() -> None:
    conn = await asyncpg.connect(f"postgresql://postgres:postgres@127.0.0.1:{port}/fworld_fraud")
    rows = await conn.fetch(
        "select distinct on (subject_event_id) return_id, band, reasons, assessed_at from assessments"
        " where escalation_id is not null order by subject_event_id, revision desc"
    )
    for r in rows:
        if r["return_id"] in honest and r["band"] == "HIGH":
            import json

            codes = [x["code"] for x in json.loads(r["reasons"])]
            ret = honest[r["return_id"]]
            print(r["return_id"], ret.seller, ret.buyer, ret.agent, ret.dest_hub, codes)
    await conn.close()


asyncio.run(main())
