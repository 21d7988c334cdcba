"""Honest HIGH escalations (the evaluation's: a claim that is no planted event) of traced worlds
by class, for issue #21: the entity whose evidence holds the claim at HIGH (its strongest reason
at HIGH strength), whether that entity is planted, and whether a planted party of the claim is
that entity or a bystander. Also each world's honest sellers alerted for claim abuse and the
share of the world's honest escalations their claims are.

    python classes21.py base/dev-101 base/dev-102 ...
"""

import json
import sys
from collections import Counter

tot: Counter = Counter()
for d in sys.argv[1:]:
    t = json.load(open(f"{d}/trace.json"))
    tab = json.load(open(f"{d}/table.json"))
    h = tab["_honest"]
    c: Counter = Counter()
    for e in t["honest_high"]:
        strong = [r for r in e["reasons"] if (r["contribution"] or 0) >= 0.8] or e["reasons"]
        r = strong[0]
        who = "planted" if r["entity_planted"] else "honest"
        kind = str(r["entity"]).split(":")[0]
        planted_parties = {p["entity"] for p in e["parties"] if p["planted"]}
        if not planted_parties:
            bystander = "every party honest"
        elif r["entity"] in planted_parties:
            bystander = "the planted party is the reason's entity"
        else:
            bystander = "planted party a bystander (not the reason's entity)"
        c[(f"{r['code']} on a {who} {kind}", bystander)] += 1
    n = len(t["honest_high"])
    tot["high"] += n
    tot["honest"] += h["escalations"]
    tot["all_high"] += h["escalations_honest_parties_high"]
    tot["all"] += h["escalations_honest_parties"]
    print(f"== {d}: honest HIGH {n}/{h['escalations']} (every party honest "
          f"{h['escalations_honest_parties_high']}/{h['escalations_honest_parties']}); honest sellers "
          f"{h['sellers']}, ever alerted {h['sellers_ever_flagged']}")
    for (k, b), v in sorted(c.items()):
        tot[(k, b)] += v
        print(f"  {v:3d}  {k}  [{b}]")
    for a in t["alerts"]:
        if not a["planted"]:
            print("   false alert:", a["pattern"], a["entity"], a["status"], (a["event_time"] or "")[:10], a["code"])
print(f"== total: honest HIGH {tot['high']}/{tot['honest']} (every party honest {tot['all_high']}/{tot['all']})")
for k, v in sorted(tot.items(), key=lambda kv: str(kv[0])):
    if isinstance(k, tuple):
        print(f"  {v:3d}  {k[0]}  [{k[1]}]")
