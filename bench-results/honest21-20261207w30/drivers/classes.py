"""Print each honest HIGH escalation of the traced worlds (trace.json) in one line: whether
every party is honest, the reasons at HIGH strength (code, entity, whether that entity is
planted, its roles), and the revision chain.

    python classes.py base/dev-101 base/wide-5001 ...
"""

import json
import sys

for d in sys.argv[1:]:
    t = json.load(open(f"{d}/trace.json"))
    print(f"== {d}: {len(t['honest_high'])} honest HIGH")
    for e in t["honest_high"]:
        planted = [p["entity"] + "(" + ",".join(p["roles"]) + ")" for p in e["parties"] if p["planted"] or p["roles"]]
        strong = [
            f"{r['code']}@{r['entity']}{'*' if r['entity_planted'] else ''}{r['entity_roles'] or ''}={r['contribution']}"
            + (" alert" if r["alert_id"] else "")
            for r in e["reasons"]
            if (r["contribution"] or 0) >= 0.5
        ]
        revs = " > ".join(f"{r['revision']}:{r['band']}:{r['first_reason']}" for r in e["revisions"])
        print(
            ("ALL " if e["all_parties_honest"] else "any ") + e["return_id"],
            e["at"][:10] if e["at"] else "",
            "| parties:", " ".join(planted) or "-",
            "| strong:", "; ".join(strong),
            "| revs:", revs,
        )
    al = [a for a in t["alerts"] if not a["planted"]]
    print(f"-- false alerts ({len(al)} of {len(t['alerts'])}):")
    for a in al:
        print("  ", a["pattern"], a["entity"], a["roles"], a["status"], (a["event_time"] or "")[:10], a["code"], a["buyer"] or "")
