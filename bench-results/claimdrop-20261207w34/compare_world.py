"""A fraud-world seed before and after, from the runs' JSON: each pattern's event and entity
P / R and median days, the entities missed, and every honest figure (sellers, buyers, hubs,
agents ever HIGH; honest escalations HIGH, every party honest among them); lines that differ
marked *. Both runs scored by the code they ran with; the labels are this branch's
(specseed's) in both when BEFORE is a run of aeadc760 or specseed's rescore applies.
    python compare_world.py BEFORE.json AFTER.json"""

from __future__ import annotations

import json
import sys

before, after = (json.load(open(p))["result"] for p in sys.argv[1:3])


def mark(a: object, b: object) -> str:
    return "*" if a != b else " "


for level in ("events", "entities"):
    for pattern in after[level]:
        for k in ("planted", "high", "flagged", "recall", "precision", "median_days_to_alert"):
            if k not in after[level][pattern]:
                continue
            a, b = before[level].get(pattern, {}).get(k), after[level][pattern].get(k)
            print(f"{mark(a, b)} {level} {pattern} {k}: {a} -> {b}")
for pattern in after["missed_entities"]:
    a, b = before["missed_entities"].get(pattern), after["missed_entities"][pattern]
    print(f"{mark(a, b)} missed {pattern}: {a} -> {b}")
for kind in after["honest_entities"]:
    a, b = before["honest_entities"][kind], after["honest_entities"][kind]
    print(f"{mark(a, b)} honest {kind}: {a} -> {b}")
a, b = before["honest_escalations"], after["honest_escalations"]
print(f"{mark(a, b)} honest escalations: {a} -> {b}")
print(f"{mark(before['false_entities'], after['false_entities'])} false entities: "
      f"{before['false_entities']} -> {after['false_entities']}")
