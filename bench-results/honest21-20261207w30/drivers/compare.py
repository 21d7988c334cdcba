"""Before -> after, per traced world: per pattern event P / R of the HIGH band (each event's
latest revision) and entities found / planted; goal entities (>= 2.5x, >= 15 events) found;
honest escalations HIGH (any honest, every party honest); honest entities ever alerted per type.

    python compare.py base after1 dev-101 wide-5001 ...
"""

import json
import sys
from pathlib import Path

before, after = Path(sys.argv[1]), Path(sys.argv[2])
PATTERNS = ("claim_abuse", "evidence_reuse", "wrong_used_returns", "pilferage", "qc_contradiction", "collusion")


def figures(t: dict) -> dict[str, str]:
    out = {}
    for p in PATTERNS:
        c = t[p]["_counts"]
        out[p] = (
            f"P {t[p]['event_precision']} R {t[p]['event_recall']} "
            f"(hits {c['ev_hits']}/{c['ev_planted']}, flagged {c['ev_flagged']}); "
            f"entities {c['en_detected']}/{c['en_planted']}"
        )
    goal = [e for e in t["_entities"] if (e["intensity"] or 0) >= 2.5 and e["events"] >= 15]
    out["goal entities"] = f"{sum(e['detected'] for e in goal)}/{len(goal)}"
    h = t["_honest"]
    out["honest escalations HIGH"] = (
        f"any {h['escalations_high']}/{h['escalations']}, "
        f"all {h['escalations_honest_parties_high']}/{h['escalations_honest_parties']}"
    )
    out["honest ever alerted"] = ", ".join(
        f"{k} {h[k + 's_ever_flagged']}/{h[k + 's']}" for k in ("seller", "buyer", "hub", "agent")
    )
    return out


for world in sys.argv[3:]:
    b = figures(json.loads((before / world / "table.json").read_text()))
    a = figures(json.loads((after / world / "table.json").read_text()))
    print(f"== {world}")
    for k in b:
        mark = "" if a[k] == b[k] else "   <-- changed"
        print(f"  {k}: {b[k]}  ->  {a[k]}{mark}")
