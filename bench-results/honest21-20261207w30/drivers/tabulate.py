"""Honest HIGH escalations of traced worlds by class: the reason that holds the escalation at
HIGH (its strongest; a QC hub's when present, since a hub's floor is what the classes ask
about), whether the entity it is about is planted, and whether every party is honest.

    python tabulate.py base/dev-101 base/wide-5001 ...
"""

import json
import sys
from collections import Counter


def klass(e: dict) -> str:
    strong = [r for r in e["reasons"] if (r["contribution"] or 0) >= 0.8]
    hub = [r for r in strong if (r["pattern"] or "") == "QC_CONTRADICTION_HUB"]
    r = (hub or strong or e["reasons"])[0]
    who = "planted" if r["entity_planted"] else "honest"
    p = r["pattern"]
    if p == "QC_CONTRADICTION_HUB":
        # The pass's agent, as the claim's parties name it (the pickup agent, who also passed
        # QC at pickup in these worlds).
        agents = [x for x in e["parties"] if x["entity"].startswith("agent:")]
        on = (
            "a pass naming no agent"
            if not agents
            else f"a {'planted' if agents[0]['planted'] else 'honest'} agent's pass"
        )
        return f"QC hub alert/finding ({who} hub), on {on}"
    return f"{p} on a {who} {str(r['entity']).split(':')[0]}"


for d in sys.argv[1:]:
    t = json.load(open(f"{d}/trace.json"))
    c: Counter = Counter()
    for e in t["honest_high"]:
        k = klass(e)
        c[(k, "all")] += e["all_parties_honest"]
        c[(k, "any")] += 1
    print(f"== {d}: {len(t['honest_high'])} honest HIGH")
    for k in sorted({k for k, _ in c}):
        print(f"  {k}: {c[(k, 'any')]} ({c[(k, 'all')]} every party honest)")
