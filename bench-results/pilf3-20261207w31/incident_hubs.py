"""Where fraud's custody counts the incidents a world planted at a hub (settled fworld DB).
    python incident_hubs.py DATABASE_URL SEED HUB_SUFFIX END_ISO"""
import asyncio
import sys
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from disputedesk.fraudworld.world import build_world
from services.fraud.features.service import counted_hubs, incident_kind
from services.fraud.models import ReturnFacts

url, seed, suffix, end = sys.argv[1], int(sys.argv[2]), sys.argv[3], datetime.fromisoformat(sys.argv[4])
w = build_world(seed, end=end)
hub = next(h for h in w.entities["hub"] if h.endswith(suffix))
mine = {r.return_id: r for r in w.returns if r.dest_hub == hub and "pilferage" in r.patterns}


async def main() -> None:
    engine = create_async_engine(url)
    async with async_sessionmaker(engine)() as s:
        rows = (await s.execute(select(ReturnFacts).where(ReturnFacts.return_id.in_(list(mine))))).scalars().all()
        out = Counter()
        for f in rows:
            r = mine[f.return_id]
            kinds = [x.kind for x in r.scans]
            handled, inc_hub = counted_hubs(f)
            kind = incident_kind(f)
            where = "this hub" if inc_hub == hub else ("origin " if inc_hub == r.origin_hub else "") + str(inc_hub)
            out[(kinds[-1], str(kind), where if kind else "no incident read", r.agent in w.truth["pilferage"]["agent"])] += 1
        print(f"{hub}: {len(mine)} planted incidents, {len(rows)} with facts in fraud")
        for k, v in sorted(out.items(), key=lambda kv: -kv[1]):
            print(f"  last scan {k[0]:22} fraud's incident {k[1]:12} counted at {k[2]:28} planted agent's pickup: {k[3]}  x{v}")
    await engine.dispose()

asyncio.run(main())
