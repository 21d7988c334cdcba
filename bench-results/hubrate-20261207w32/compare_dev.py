"""Per seed, before and after: every pattern's event and entity P/R, pilferage's entities and
median days to alert, honest hubs/agents/sellers/buyers ever flagged.
    python compare_dev.py BEFORE.json AFTER.json"""
import json
import sys

b, a = (json.load(open(p)) for p in sys.argv[1:3])
seeds_b = dict(zip(b["seeds"], b["per_seed"]))
KEYS = ("event_precision", "event_recall", "entity_precision", "entity_recall", "entities_alerted", "median_days_to_alert")
for seed, ta in zip(a["seeds"], a["per_seed"]):
    tb = seeds_b.get(seed)
    if tb is None:
        print(f"seed {seed}: after only")
    for pat in ("claim_abuse", "evidence_reuse", "wrong_used_returns", "pilferage", "qc_contradiction", "collusion"):
        va = tuple(ta[pat].get(k) for k in KEYS)
        vb = tuple(tb[pat].get(k) for k in KEYS) if tb else None
        print(f"seed {seed} {pat:20s} before {vb} after {va} {'SAME' if va == vb else 'DIFF'}")
    ha = {k: v for k, v in ta["honest"].items() if k.endswith("ever_flagged") or k.endswith("at_end")}
    hb = {k: v for k, v in tb["honest"].items() if k.endswith("ever_flagged") or k.endswith("at_end")} if tb else {}
    print(f"seed {seed} honest {'SAME' if ha == hb else 'DIFF'}: after {ha}" + ("" if ha == hb else f" before {hb}"))
