"""Before -> after per traced world (trace.json from this folder's trace_world.py): planted
events by the band of their latest revision per pattern (recall by decision: HIGH goes to an
analyst, MEDIUM and LOW are decided by SOP v1 as usual), and honest escalations by band.

    python decisions.py base after dev-101 wide-5001 ...
"""

import json
import sys
from pathlib import Path

before, after = Path(sys.argv[1]), Path(sys.argv[2])


def read(d: Path, world: str) -> dict | None:
    f = d / world / "trace.json"
    if not f.exists():
        return None
    t = json.loads(f.read_text())
    return t if "planted_by_decision" in t else None


for world in sys.argv[3:]:
    b, a = read(before, world), read(after, world)
    print(f"== {world}")
    for label, t in (("before", b), ("after", a)):
        if t is None:
            print(f"  {label}: no decision counts")
            continue
        parts = [
            f"{p} H{c['HIGH']}/M{c['MEDIUM']}/L{c['LOW']}"
            + (f"/unscored{c['unscored']}" if c["unscored"] else "")
            for p, c in sorted(t["planted_by_decision"].items())
        ]
        h = t["honest_escalations_by_band"]
        print(f"  {label}: planted {'; '.join(parts)}")
        print(f"  {label}: honest escalations H{h['HIGH']}/M{h['MEDIUM']}/L{h['LOW']}")
