"""Every hub's parts (incidents/handled by part of the journey) summed from a settled
fworld_fraud's counters up to DAY (the scoring window reaches back past the world's start), and
`pilferage.exposure_of`'s scale for each: what one of the hub's parcels weighs on that day, as
the settled counters have it (a stream read may differ). Read only.
    python scales_on.py DATABASE_URL DAY"""

from __future__ import annotations

import asyncio
import sys
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.fraud.detectors import pilferage
from services.fraud.scoring.base import default_config


async def main() -> None:
    day = date.fromisoformat(sys.argv[2])
    engine = create_async_engine(sys.argv[1])
    async with engine.connect() as c:
        rows = await c.execute(text(
            "select entity_id, metric, sum(n) n from feature_counts where entity_type='hub' "
            "and day <= :d group by 1, 2"), {"d": day})
        hubs: dict[str, dict[str, int]] = {}
        for r in rows:
            hubs.setdefault(r.entity_id, {})[r.metric] = int(r.n)
    await engine.dispose()
    t = default_config().thresholds
    exp = pilferage.exposure_of(hubs, t)
    print(f"as of {day}: hub | k/n | " + " | ".join(f"{p} k/n" for p in pilferage.PARTS) + " | scale | rel_var")
    for hub in sorted(hubs):
        row = hubs[hub]
        parts = " | ".join(f"{row.get('incidents_' + p, 0)}/{row.get('handled_' + p, 0)}" for p in pilferage.PARTS)
        print(f"{hub} | {row.get('incidents', 0)}/{row.get('handled', 0)} | {parts} | {exp[hub].scale:.2f} | {exp[hub].rel_var:.3f}")


asyncio.run(main())
