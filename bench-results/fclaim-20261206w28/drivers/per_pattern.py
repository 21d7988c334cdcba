"""Per seed and pattern, two `fraud-eval --direct` results side by side (entity P / R, event
P / R, median days) with the honest counts, and every figure that differs.

usage: python per_pattern.py BEFORE.json AFTER.json
"""

import json
import sys

PATTERNS = ("claim_abuse", "evidence_reuse", "wrong_used_returns", "pilferage",
            "qc_contradiction", "collusion")
before, after = (json.load(open(p)) for p in sys.argv[1:3])
b_seeds = {s["run"]["seed"]: s for s in before["per_seed"]}
for a in after["per_seed"]:
    seed = a["run"]["seed"]
    b = b_seeds[seed]
    print(f"## seed {seed}\n")
    print("| pattern | entity P / R before | after | event P / R before | after | median days before | after |")
    print("|---|---|---|---|---|---|---|")
    for p in PATTERNS:
        x, y = b[p], a[p]
        print(f"| {p} | {x['entity_precision']} / {x['entity_recall']} | {y['entity_precision']} / "
              f"{y['entity_recall']} | {x['event_precision']} / {x['event_recall']} | "
              f"{y['event_precision']} / {y['event_recall']} | {x['median_days_to_alert']} | "
              f"{y['median_days_to_alert']} |")
    hb, ha = b["honest"], a["honest"]
    print(f"\nhonest sellers ever flagged {hb['sellers_ever_flagged']} / {hb['sellers']} -> "
          f"{ha['sellers_ever_flagged']} / {ha['sellers']}; escalations HIGH "
          f"{hb['escalations_high']} / {hb['escalations']} -> {ha['escalations_high']} / "
          f"{ha['escalations']} (every party honest {hb['escalations_honest_parties_high']} / "
          f"{hb['escalations_honest_parties']} -> {ha['escalations_honest_parties_high']} / "
          f"{ha['escalations_honest_parties']})")
    changed = []
    for key in sorted(set(a) | set(b)):
        if key in ("run", "world"):
            continue
        x, y = b.get(key) or {}, a.get(key) or {}
        changed += [f"{key}.{k}: {x.get(k)} -> {y.get(k)}"
                    for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    print(f"\nfigures that differ: {len(changed)}" + "".join(f"\n- {c}" for c in changed))
    print(f"seconds {b['run']['seconds']} -> {a['run']['seconds']}\n")
