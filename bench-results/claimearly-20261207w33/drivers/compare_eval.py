"""fraud-eval --direct before and after, pooled: per pattern event and entity P / R and the
median days, and every honest figure; lines that differ marked.
    python compare_eval.py BEFORE.json AFTER.json"""

from __future__ import annotations

import json
import sys

before, after = (json.load(open(p))["pooled"] for p in sys.argv[1:3])
keys = ("event_precision", "event_recall", "entity_precision", "entity_recall",
        "median_days_to_alert", "events_planted", "events_flagged", "entities_alerted")
for pattern in ("claim_abuse", "evidence_reuse", "wrong_used_returns", "pilferage",
                "qc_contradiction", "collusion"):
    for k in keys:
        a, b = before[pattern].get(k), after[pattern].get(k)
        print(f"{'*' if a != b else ' '} {pattern} {k}: {a} -> {b}")
for k in sorted(set(before["honest"]) | set(after["honest"])):
    a, b = before["honest"].get(k), after["honest"].get(k)
    print(f"{'*' if a != b else ' '} honest {k}: {a} -> {b}")
