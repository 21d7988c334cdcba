"""Offline, from a run's hub counters by part of the journey (hub-parts-SEED.txt: hub, then
handled/incidents for only, last, earlier, then the totals): each hub's record on each part it
held, against the other hubs of its partner on that part (pooled rate), by fraud's sequential
Bayes factor at a few assumed concentrations of the honest spread; the alert is log 200 = 5.30
(before any charge for looking at up to three parts). A what-if, not fraud's test.
    python part_test.py hub-parts-SEED.txt"""

from __future__ import annotations

import sys

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_log_bf

s = Sequential(alpha=5e-3)
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    hub = f[0]
    vals = [int(x) if x else None for x in line.rstrip("\n").split(" ")[1:]]
    rows[hub] = {
        "only": (vals[0], vals[1]),
        "last": (vals[2], vals[3]),
        "earlier": (vals[4], vals[5]),
    }


def partner(hub: str) -> str:
    code = hub.split("-", 1)[1]
    if "_Hub" in code:
        return "desipost"
    return "swiftship" if rows[hub]["only"][0] else "rapidroute"


for hub in sorted(rows):
    out = []
    for part in ("only", "last", "earlier"):
        n, k = rows[hub][part]
        if not n:
            continue
        pk = sum(rows[h][part][1] or 0 for h in rows if h != hub and partner(h) == partner(hub))
        pn = sum(rows[h][part][0] or 0 for h in rows if h != hub and partner(h) == partner(hub))
        rate = max(pk / pn, 1e-4)
        bfs = [sequential_log_bf(k, n, PeerSpread(rate, c), s) for c in (100, 184, 1000)]
        out.append(
            f"{part} {k}/{n} ({k / n:.3f}) vs {partner(hub)} peers {rate:.3f} ({k / n / rate:.1f}x): "
            f"log BF {bfs[0]:.1f} / {bfs[1]:.1f} / {bfs[2]:.1f} (concentration 100 / 184 / 1000)"
        )
    print(hub, "; ".join(out))
