"""Every hub's exposure scale (`pilferage.exposure_scales`) from a fraud database's counters up to
a day (the fraud-world run's own `fworld_fraud`, left on its stack after the run).
    python scales_at.py PG_PORT UNTIL_DAY"""
import asyncio
import sys
from datetime import date

import asyncpg

from services.fraud.detectors import pilferage, stats
from services.fraud.scoring.pilferage import HUB_METRICS


async def main() -> None:
    c = await asyncpg.connect(host="127.0.0.1", port=int(sys.argv[1]), user="postgres", database="fworld_fraud")
    rows = await c.fetch(
        "select entity_id, metric, sum(n) n from feature_counts where entity_type='hub' and day <= $1 "
        "and metric = any($2) group by entity_id, metric", date.fromisoformat(sys.argv[2]), list(HUB_METRICS))
    hubs: dict[str, dict[str, int]] = {}
    for r in rows:
        hubs.setdefault(r["entity_id"], {})[r["metric"]] = int(r["n"])
    for h, s in sorted(pilferage.exposure_scales(hubs, stats.Thresholds()).items()):
        row = hubs[h]
        print(f"{h:26s} scale {s:.3f} " + " ".join(f"{k}={row.get(k, 0)}" for k in sorted(row)))
    await c.close()

asyncio.run(main())
