"""Where the spec world's storm lands in the bad-day hub's record, counted as fraud counts it
(an incident on its journey's end's UTC day, `features.service.count_late`), and what the
pilferage rules make of that record (worst day, whether it stands apart, the window's counts
left after it).   python trace_storm.py SEED END_ISO ..."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from datetime import datetime

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import pilferage, stats
from services.fraud.features.custody import DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody, weight_drop

T = stats.Thresholds()
PICKUPS = {"PICKED_UP", "QC_PASSED", "QC_FAILED"}
ENDS = {"DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}
MILESTONES = PICKUPS | ENDS | {"AT_HUB"}

args = sys.argv[1:]
for seed, end in zip(args[::2], args[1::2]):
    w = build_world(int(seed), end=datetime.fromisoformat(end))
    hub = next(iter(w.lookalikes["hub"]))
    days: dict = defaultdict(Counter)
    storm = []
    for r in w.returns:
        scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in MILESTONES]
        ends = [s for s in scans if s.kind in ENDS]
        if not ends:
            continue
        e = min(ends, key=lambda s: s.at)
        pw = next((s.weight_g for s in sorted(scans, key=lambda s: s.at) if s.kind in PICKUPS and s.weight_g), None)
        inc = DECLARED if e.kind != "DELIVERED_TO_SELLER" else WEIGHT_DROP if weight_drop(pw, e.weight_g) else None
        seen = [Seen(s.at, s.hub, s.weight_g, END if s.kind in ENDS else PICKUP if s.kind in PICKUPS else SCAN) for s in scans]
        c = custody(r.return_id, seen, pickup_weight_g=pw, incident=inc)
        if hub in c.handled:
            d = e.at.date()
            days[d]["n"] += 1
            if inc and c.incident_hub == hub:
                days[d]["k"] += 1
                picked = next(s.at for s in scans if s.kind == "PICKED_UP")
                if e.kind == "DAMAGED_IN_TRANSIT" and r.origin_hub != hub and r.dest_hub == hub:
                    storm.append((picked, e.at, r.partner, r.origin_hub))
    print(f"seed {seed} (end {end}) hub {hub}: {sum(v['n'] for v in days.values())} parcels, "
          f"{sum(v['k'] for v in days.values())} incidents")
    for p, at, partner, o in sorted(storm, key=lambda x: x[1]):
        print(f"  damaged: picked {p:%m-%d %H:%M} damage scan {at:%m-%d %H:%M} UTC ({partner}, from {o})")
    rec = {d: pilferage.DayCount(v["n"], v["k"]) for d, v in sorted(days.items())}
    for d, c in rec.items():
        if c.incidents:
            print(f"  {d} {c.incidents}/{c.handled}")
    n = sum(c.handled for c in rec.values()); k = sum(c.incidents for c in rec.values())
    worst = max(rec.values(), key=lambda c: c.incidents)
    rest = pilferage.DayCount(n - worst.handled, k - worst.incidents)
    print(f"  worst day {worst}; stands apart: {pilferage.stands_apart(worst, rest, T)}; "
          f"counted (k, n) = {pilferage.counted(rec, None, T)}")
