"""Per planted claim abuser, from a trace: deliveries and claims on them per week from its first
planted claim (weeks by delivery time; claims counted on the week's deliveries, whenever filed),
and the share of its deliveries claimed before and after its fifth claim.
    python weekly.py TRACE..."""

import gzip
import json
import sys
from datetime import datetime

for path in sys.argv[1:]:
    d = json.load(gzip.open(path, "rt") if path.endswith(".gz") else open(path))
    w = d["world"]
    for s in w["abusers"]:
        if s not in w["first_event"]:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        rets = [v for v in w["returns"].values() if v.get("seller") == s and "delivered" in v]
        weeks: dict[int, list[int]] = {}
        for v in rets:
            wk = int((datetime.fromisoformat(v["delivered"]) - first).total_seconds() // (7 * 86400))
            weeks.setdefault(wk, [0, 0])
            weeks[wk][0] += 1
            weeks[wk][1] += "claimed" in v
        cells = " ".join(f"w{k}:{c}/{n}" for k, (n, c) in sorted(weeks.items()))
        n_all = sum(n for n, _ in weeks.values())
        c_all = sum(c for _, c in weeks.values())
        print(f"{d['seed']} {s}: claimed/delivered by week of delivery from the first planted claim: {cells}; all {c_all}/{n_all}")
