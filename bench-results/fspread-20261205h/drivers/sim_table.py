"""Sum `sim_spread.py` outputs: honest sellers ever alerted (all, worst cell), abusers found."""
import json
import sys
from statistics import median

for path in sys.argv[1:]:
    rows = json.load(open(path))
    h = ha = a = af = a8 = af8 = 0
    worst = (0.0, "")
    days = []
    for c in rows:
        ch = sum(w["honest"] for w in c["worlds"])
        cha = sum(w["honest_alerted"] for w in c["worlds"])
        h, ha = h + ch, ha + cha
        a += sum(w["abusers15"] for w in c["worlds"])
        af += sum(w["abusers15_found"] for w in c["worlds"])
        a8 += sum(w["abusers8"] for w in c["worlds"])
        af8 += sum(w["abusers8_found"] for w in c["worlds"])
        days += [d for w in c["worlds"] for d in w["abuser_days"]]
        if ch and cha / ch > worst[0]:
            worst = (cha / ch, f'{c["model"]} A={c["A"]:g} sellers={c["sellers"]} volume={c["volume"]:g}: {cha}/{ch}')
    print(f"{path}: honest ever alerted {ha}/{h} = {ha / h:.2%} ({ha / h / 2:.2%} per seller-month of 60 days); worst cell {worst[1]} ({worst[0]:.2%}); abusers with >=15 claims found {af}/{a}, >=8 {af8}/{a8}; median day found (>=15) {median(days) if days else '-'}")
