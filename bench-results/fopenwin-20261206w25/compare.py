"""Off against on: every pattern's entity table, the claim-abuse goal line, the honest
population, and each planted claim abuser's days to its alert, from two `fraud-eval --direct`
outputs. Usage: compare.py OFF_DIR ON_DIR"""

import json
import sys


def load(path):
    return json.load(open(f"{path}/fraud-eval-direct.json"))


off, on = load(sys.argv[1]), load(sys.argv[2])
print(f"seeds {off['seeds']} | off {off['seconds']} s | on {on['seconds']} s")
print()
print("| pattern | entities planted | found off → on | entity P off → on | median days off → on |")
print("|---|---|---|---|---|")
for pattern, a in off["pooled"].items():
    if pattern in ("power", "honest"):
        continue
    b = on["pooled"][pattern]
    found = lambda x: round(x["entity_recall"] * x["entities_planted"]) if x.get("entity_recall") is not None else 0
    print(
        f"| {pattern} | {a['entities_planted']} | {found(a)} → {found(b)} | "
        f"{a.get('entity_precision')} → {b.get('entity_precision')} | "
        f"{a.get('median_days_to_alert')} → {b.get('median_days_to_alert')} |"
    )
print()
for name in ("off", "on"):
    d = off if name == "off" else on
    p = d["pooled"]["power"]["claim_abuse"]
    print(
        f"claim abuse goal ({name}): {p.get('goal_detected')}/{p.get('goal_planted')} found, "
        f"median {p.get('goal_median_days_to_alert')} days; recall {p.get('goal_recall')}"
    )
print()
print("| honest | off | on |")
print("|---|---|---|")
h0, h1 = off["pooled"]["honest"], on["pooled"]["honest"]
for key, total in (
    ("sellers_ever_flagged", "sellers"),
    ("sellers_flagged_at_end", "sellers"),
    ("buyers_ever_flagged", "buyers"),
    ("hubs_ever_flagged", "hubs"),
    ("agents_ever_flagged", "agents"),
    ("escalations_high", "escalations"),
    ("escalations_honest_parties_high", "escalations_honest_parties"),
    ("lookalike_early_claims_seller_ever_flagged", "lookalike_early_claims_seller"),
    ("lookalike_large_seller_ever_flagged", "lookalike_large_seller"),
    ("lookalike_bad_weeks_seller_ever_flagged", "lookalike_bad_weeks_seller"),
):
    print(f"| {key} | {h0.get(key)}/{h0.get(total)} | {h1.get(key)}/{h1.get(total)} |")
for key in sorted(set(h0) | set(h1)):
    if key.startswith("honest_high_by_"):
        print(f"| {key} | {h0.get(key, 0)} | {h1.get(key, 0)} |")
print()
print("| claim abuser | shown | events | days off | days on |")
print("|---|---|---|---|---|")
days_on = {e["entity"]: e for e in on["entities"] if e["pattern"] == "claim_abuse"}
for e in off["entities"]:
    if e["pattern"] != "claim_abuse":
        continue
    f = days_on.get(e["entity"], {})
    print(
        f"| {e['entity']} | {e['intensity']} | {e['events']} | "
        f"{e['days_to_alert'] if e['detected'] else 'missed'} | "
        f"{f.get('days_to_alert') if f.get('detected') else 'missed'} |"
    )
