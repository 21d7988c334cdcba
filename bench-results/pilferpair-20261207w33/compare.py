"""Before -> after of two fraud-eval --direct runs: every pooled figure that moved, pilferage's
and the honest ones in full, and each planted pilferage entity.   python compare.py BEFORE AFTER"""

import json
import sys

a, b = (json.load(open(f"{p}/fraud-eval-direct.json")) for p in sys.argv[1:3])
for pattern in ("pilferage", "honest"):
    for key, v in a["pooled"][pattern].items():
        w = b["pooled"][pattern].get(key)
        mark = "" if v == w else "   <- moved"
        print(f"{pattern} {key} {v} -> {w}{mark}")
for pattern, v in a["pooled"].items():
    if pattern in ("pilferage", "honest"):
        continue
    if v != b["pooled"].get(pattern):
        print(f"MOVED {pattern}")
        if isinstance(v, dict):
            for key, x in v.items():
                if x != b["pooled"][pattern].get(key):
                    print(f"  {key} {x} -> {b['pooled'][pattern].get(key)}")


def planted(d):
    return {
        (e.get("seed"), e["entity"]): e
        for e in d["entities"]
        if e.get("pattern") == "pilferage"
    }


pa, pb = planted(a), planted(b)
print("pilferage planted entities, before -> after")
for k in sorted(pa.keys() | pb.keys(), key=str):
    x, y = pa.get(k, {}), pb.get(k, {})
    print(k, "intensity", x.get("intensity"), "events", x.get("events"), "detected",
          x.get("detected"), x.get("days_to_alert"), "->", y.get("detected"), y.get("days_to_alert"))
