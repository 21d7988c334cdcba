"""`sim_spread.py` outputs by drawn spread (A) and volume: honest sellers ever alerted, abusers
with 15+ claims found."""
import json
import sys
from collections import defaultdict

for path in sys.argv[1:]:
    rows = json.load(open(path))
    by = defaultdict(lambda: [0, 0, 0, 0])
    for c in rows:
        for key in ((c["A"], "all"), (c["A"], f'vol {c["volume"]:g}')):
            b = by[key]
            for w in c["worlds"]:
                b[0] += w["honest_alerted"]; b[1] += w["honest"]; b[2] += w["abusers15_found"]; b[3] += w["abusers15"]
    print(path)
    for (A, what), (ha, h, af, a) in sorted(by.items()):
        print(f"  A={A:6g} {what:8s} honest {ha:3d}/{h:5d} = {ha / h:6.2%}   abusers(15+) {af}/{a}")
