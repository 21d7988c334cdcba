"""Before -> after of two `fraud-eval --direct` results, seed by seed: pilferage's figures, the
honest hubs and agents ever flagged, every planted pilferer (found, days to its alert), and
whether every other pattern's figures are unchanged.
    python compare_pilferage.py BEFORE/fraud-eval-direct.json AFTER/fraud-eval-direct.json"""
import json
import sys

b, a = (json.load(open(p)) for p in sys.argv[1:3])
FIG = ("entities_alerted", "entity_precision", "entity_recall", "median_days_to_alert",
       "event_precision", "event_recall")
for seed, sb, sa in zip(a["seeds"], b["per_seed"], a["per_seed"]):
    print(f"seed {seed}")
    pb, pa = sb["pilferage"], sa["pilferage"]
    print("  pilferage: " + ", ".join(f"{f} {pb.get(f)} -> {pa.get(f)}" for f in FIG))
    hb, ha = sb["honest"], sa["honest"]
    for f in ("hubs_ever_flagged", "hubs_flagged_at_end", "agents_ever_flagged", "agents_flagged_at_end",
              "sellers_ever_flagged", "buyers_ever_flagged"):
        print(f"  {f}: {hb.get(f)} -> {ha.get(f)} (of {ha.get(f.split('_')[0])})")
    changed = [k for k in set(hb) | set(ha) if hb.get(k) != ha.get(k)]
    print(f"  honest figures changed: {sorted(changed) or 'none'}")
    others = [p for p in ("claim_abuse", "evidence_reuse", "wrong_used_returns", "qc_contradiction", "collusion")
              if sb[p] != sa[p]]
    print(f"  other patterns changed: {others or 'none'}")
key = lambda e: (e.get("seed"), e["entity"])  # noqa: E731
eb = {key(e): e for e in b["entities"] if e["pattern"] == "pilferage"}
print("planted pilferers (seed, entity, intensity, events: before found/days -> after)")
for e in a["entities"]:
    if e["pattern"] != "pilferage":
        continue
    o = eb.get(key(e), {})
    tag = "SAME" if (o.get("detected"), o.get("days_to_alert")) == (e["detected"], e["days_to_alert"]) else "DIFF"
    print(f"  {e.get('seed')} {e['entity']:22s} x{e['intensity']:.2f} ev {e['events']:3d} "
          f"{o.get('detected')} {o.get('days_to_alert')} -> {e['detected']} {e['days_to_alert']} {tag}")
