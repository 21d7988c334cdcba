"""Every hub's exposure (`pilferage.exposure_of`: scale and the relative variance of its weight)
from a fraud database's counters over the 56 days up to a day (read-only).
    python exposure_at.py PG_PORT UNTIL_DAY [DB]"""
import asyncio
import sys
from datetime import date, timedelta

import asyncpg

from services.fraud.detectors import pilferage, stats
from services.fraud.scoring.pilferage import HUB_METRICS


async def main() -> None:
    db = sys.argv[3] if len(sys.argv) > 3 else "fworld_fraud"
    c = await asyncpg.connect(host="127.0.0.1", port=int(sys.argv[1]), user="postgres", password="postgres", database=db)
    until = date.fromisoformat(sys.argv[2])
    rows = await c.fetch(
        "select entity_id, metric, sum(n) n from feature_counts where entity_type='hub' and day <= $1 "
        "and day > $2 and metric = any($3) group by entity_id, metric", until, until - timedelta(days=56), list(HUB_METRICS))
    hubs: dict[str, dict[str, int]] = {}
    for r in rows:
        hubs.setdefault(r["entity_id"], {})[r["metric"]] = int(r["n"])
    print(f"== counters {until - timedelta(days=55)} .. {until}")
    for h, e in sorted(pilferage.exposure_of(hubs, stats.Thresholds()).items()):
        row = hubs[h]
        print(f"{h:26s} scale {e.scale:.3f} rel_var {e.rel_var:.3f} " + " ".join(f"{k}={row.get(k, 0)}" for k in sorted(row)))
    await c.close()

asyncio.run(main())
