"""Print the #21 pilferage-claim figures of fraud-eval-direct.json runs side by side:
python compare.py NAME=DIR ..."""
import json
import sys

rows = [
    ("pilferage event P", lambda p, h: p["pilferage"]["event_precision"]),
    ("pilferage event R", lambda p, h: p["pilferage"]["event_recall"]),
    ("pilferage events flagged", lambda p, h: p["pilferage"]["events_flagged"]),
    ("pilferage entity P / R", lambda p, h: (p["pilferage"]["entity_precision"], p["pilferage"]["entity_recall"])),
    ("honest escalations HIGH", lambda p, h: f'{h["escalations_high"]} / {h["escalations"]}'),
    ("every party honest HIGH", lambda p, h: f'{h["escalations_honest_parties_high"]} / {h["escalations_honest_parties"]}'),
    ("  of them on a pilfered return", lambda p, h: f'{h.get("escalations_on_pilfered_returns_high", "n/a")} / {h.get("escalations_on_pilfered_returns", "n/a")}'),
    ("  honest HIGH by PILFERAGE_AT_HUB", lambda p, h: h.get("honest_any_high_by_reason:PILFERAGE_AT_HUB", 0)),
    ("  honest HIGH by PILFERAGE_AT_AGENT", lambda p, h: h.get("honest_any_high_by_reason:PILFERAGE_AT_AGENT", 0)),
    ("hubs / agents ever flagged (honest)", lambda p, h: (h["hubs_ever_flagged"], h["agents_ever_flagged"])),
]
for pat in ("claim_abuse", "evidence_reuse", "wrong_used_returns", "qc_contradiction", "collusion"):
    rows.append((f"{pat} event P / R", lambda p, h, pat=pat: (p[pat]["event_precision"], p[pat]["event_recall"])))
runs = []
for arg in sys.argv[1:]:
    name, path = arg.split("=", 1)
    d = json.load(open(f"{path}/fraud-eval-direct.json"))
    runs.append((name, d["pooled"], d["pooled"]["honest"]))
print("| figure | " + " | ".join(n for n, _, _ in runs) + " |")
print("|---|" + "---|" * len(runs))
for label, f in rows:
    print(f"| {label} | " + " | ".join(str(f(p, h)) for _, p, h in runs) + " |")
for name, p, h in runs:
    by = {k: v for k, v in h.items() if "PILFERAGE_AT" in k or k.startswith("honest_any_high_by_entity:")}
    print(name, json.dumps(by, sort_keys=True))
