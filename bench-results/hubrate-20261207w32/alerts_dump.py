"""Every hub and agent pilferage alert of a settled fworld_fraud database (raised, status, the
summary), and the named hubs' days as fraud counted them. Read only.
    python alerts_dump.py DATABASE_URL [HUB ...]"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def main() -> None:
    engine = create_async_engine(sys.argv[1])
    async with engine.connect() as c:
        rows = await c.execute(text(
            "select entity_type, entity_id, event_time, status, closed_at, severity, summary "
            "from alerts where entity_type in ('hub','agent') order by entity_type, entity_id, raised_at"))
        for r in rows:
            print(f"{r.entity_type} {r.entity_id} {r.event_time} {r.status} closed {r.closed_at} {r.severity}: {r.summary[:420]}")
        for hub in sys.argv[2:]:
            rows = await c.execute(text(
                "select day, metric, n from feature_counts where entity_type='hub' and entity_id=:h "
                "and metric in ('handled','incidents') order by day"), {"h": hub})
            days: dict = {}
            for r in rows:
                days.setdefault(r.day, {})[r.metric] = r.n
            print(f"== {hub} days: " + " ".join(f"{d.isoformat()[5:]}:{v.get('incidents',0)}/{v.get('handled',0)}" for d, v in days.items()))
    await engine.dispose()


asyncio.run(main())
