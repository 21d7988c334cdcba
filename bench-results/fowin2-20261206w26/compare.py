"""Before against after, with FRAUD_SELLER_OPEN_WINDOWS off and on: every pattern's entity
table, the claim-abuse goal line, the honest population (with where honest HIGH escalations
come from), and each planted claim abuser's days to its alert, from `fraud-eval --direct`
outputs. Usage: compare.py BEFORE_OFF BEFORE_ON AFTER_OFF AFTER_ON (a missing dir: '-')."""

import json
import os
import sys

NAMES = ("before off", "before on", "after off", "after on")


def load(path):
    if path == "-" or not os.path.exists(f"{path}/fraud-eval-direct.json"):
        return None
    return json.load(open(f"{path}/fraud-eval-direct.json"))


runs = [(n, load(p)) for n, p in zip(NAMES, sys.argv[1:5], strict=True)]
runs = [(n, d) for n, d in runs if d is not None]
print("runs: " + "; ".join(f"{n}: seeds {d['seeds']}, {d['seconds']} s" for n, d in runs))
print()
head = " | ".join(n for n, _ in runs)
print(f"| pattern | planted | found ({head}) | entity P ({head}) | median days ({head}) |")
print("|---|---|---|---|---|")
first = runs[0][1]
for pattern, a in first["pooled"].items():
    if pattern in ("power", "honest"):
        continue

    def found(x):
        r = x.get("entity_recall")
        return round(r * x["entities_planted"]) if r is not None else 0

    cells = [d["pooled"][pattern] for _, d in runs]
    print(
        f"| {pattern} | {a['entities_planted']} | "
        + " / ".join(str(found(c)) for c in cells)
        + " | "
        + " / ".join(str(c.get("entity_precision")) for c in cells)
        + " | "
        + " / ".join(str(c.get("median_days_to_alert")) for c in cells)
        + " |"
    )
print()
for name, d in runs:
    p = d["pooled"]["power"]["claim_abuse"]
    print(
        f"claim abuse goal ({name}): {p.get('goal_detected')}/{p.get('goal_planted')} found, "
        f"median {p.get('goal_median_days_to_alert')} days; recall {p.get('goal_recall')}"
    )
print()
print(f"| honest | {head} |")
print("|---|" + "---|" * len(runs))
hs = [d["pooled"]["honest"] for _, d in runs]
for key, total in (
    ("sellers_ever_flagged", "sellers"),
    ("sellers_flagged_at_end", "sellers"),
    ("buyers_ever_flagged", "buyers"),
    ("hubs_ever_flagged", "hubs"),
    ("agents_ever_flagged", "agents"),
    ("escalations_high", "escalations"),
    ("escalations_honest_parties_high", "escalations_honest_parties"),
    ("lookalike_multi_item_order_ever_flagged", "lookalike_multi_item_order"),
    ("lookalike_early_claims_seller_ever_flagged", "lookalike_early_claims_seller"),
    ("lookalike_large_seller_ever_flagged", "lookalike_large_seller"),
    ("lookalike_bad_weeks_seller_ever_flagged", "lookalike_bad_weeks_seller"),
):
    print(f"| {key} | " + " | ".join(f"{h.get(key)}/{h.get(total)}" for h in hs) + " |")
keys = sorted({k for h in hs for k in h if k.startswith(("honest_high_", "honest_any_high_"))})
for key in keys:
    print(f"| {key} | " + " | ".join(str(h.get(key, "·")) for h in hs) + " |")
print()
print(f"| claim abuser | shown | events | days: {head} |")
print("|---|---|---|---|")
by_run = [{e["entity"]: e for e in d["entities"] if e["pattern"] == "claim_abuse"} for _, d in runs]
for e in first["entities"]:
    if e["pattern"] != "claim_abuse":
        continue
    cells = []
    for r in by_run:
        f = r.get(e["entity"], {})
        cells.append(str(f.get("days_to_alert")) if f.get("detected") else "missed")
    print(f"| {e['entity']} | {e['intensity']} | {e['events']} | " + " / ".join(cells) + " |")
print()
print("per seed (claim abuse entity P, honest sellers ever, honest HIGH any / every party honest):")
for name, d in runs:
    for s in d["per_seed"]:
        h = s["honest"]
        ca = s["claim_abuse"]
        print(
            f"  {name} seed {s['run'].get('seed') if isinstance(s.get('run'), dict) else '?'}: "
            f"P {ca.get('entity_precision')}, R {ca.get('entity_recall')}, "
            f"sellers {h.get('sellers_ever_flagged')}/{h.get('sellers')}, "
            f"HIGH {h.get('escalations_high')}/{h.get('escalations')}, "
            f"{h.get('escalations_honest_parties_high')}/{h.get('escalations_honest_parties')}"
        )
