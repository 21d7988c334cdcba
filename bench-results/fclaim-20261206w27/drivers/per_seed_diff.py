"""Per-seed differences between two `fraud-eval --direct` results (every pattern's figures and
the honest counts), for the seeds both hold.

usage: python per_seed_diff.py BEFORE.json AFTER.json
"""

import json
import sys

before, after = (json.load(open(p)) for p in sys.argv[1:3])
by_seed = {s["run"]["seed"]: s for s in before["per_seed"]}
for s in after["per_seed"]:
    seed = s["run"]["seed"]
    b = by_seed.get(seed)
    if b is None:
        print(f"seed {seed}: not in before")
        continue
    changed = 0
    for key in sorted(set(s) | set(b)):
        if key in ("run", "world"):
            continue
        x, y = b.get(key) or {}, s.get(key) or {}
        for k in sorted(set(x) | set(y)):
            if k.startswith(("honest_any_high", "honest_high_planted")):
                if k in x and k in y and x[k] != y[k]:
                    print(f"seed {seed} {key}.{k}: {x.get(k)} -> {y.get(k)}")
                    changed += 1
                continue
            if x.get(k) != y.get(k):
                print(f"seed {seed} {key}.{k}: {x.get(k)} -> {y.get(k)}")
                changed += 1
    print(f"seed {seed}: {changed} figures changed (seconds {b['run']['seconds']} -> {s['run']['seconds']})")
