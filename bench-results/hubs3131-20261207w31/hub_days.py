"""Per hub of a settled fworld_fraud database: its PILFERAGE_HUB alerts (raised, status,
closed, the findings' codes in the evidence), its risk-history band changes with their
reasons' codes, and its daily (incidents/handled) record. Read only.
    python hub_days.py DATABASE_URL HUB [HUB ...]"""

from __future__ import annotations

import asyncio
import json
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def main() -> None:
    engine = create_async_engine(sys.argv[1])
    async with engine.connect() as c:
        for hub in sys.argv[2:]:
            print(f"== {hub}")
            rows = await c.execute(text(
                "select raised_at, event_time, status, closed_at, severity, summary, evidence "
                "from alerts where entity_type='hub' and entity_id=:h order by raised_at"), {"h": hub})
            for r in rows:
                ev = json.dumps(r.evidence)[:900]
                print(f"  alert event_time {r.event_time} {r.status} closed {r.closed_at} {r.severity}: {r.summary[:300]}")
                print(f"    evidence {ev}")
            rows = await c.execute(text(
                "select as_of, band, score, reasons from entity_risk_history "
                "where entity_type='hub' and entity_id=:h order by id"), {"h": hub})
            last = None
            for r in rows:
                codes = sorted({x.get('code', '?') for x in r.reasons or []})
                key = (r.band, tuple(codes))
                if key != last:
                    print(f"  risk {r.as_of} {r.band} {r.score:.2f} {codes}")
                    for x in r.reasons or []:
                        if 'PILFERAGE' in x.get('code', ''):
                            print(f"     {x.get('code')}: {str(x.get('detail'))[:400]}")
                    last = key
            rows = await c.execute(text(
                "select day, metric, n from feature_counts where entity_type='hub' and entity_id=:h "
                "and metric in ('handled','incidents') order by day"), {"h": hub})
            days: dict = {}
            for r in rows:
                days.setdefault(r.day, {})[r.metric] = r.n
            print("  days: " + " ".join(f"{d.isoformat()[5:]}:{v.get('incidents',0)}/{v.get('handled',0)}" for d, v in days.items()))
    await engine.dispose()


asyncio.run(main())
