"""Before -> after of two fraud-eval --direct JSON tables, per seed and pooled: each pattern's
event P / R (HIGH band, latest revision) and entities found / planted, entity precision,
claim-abuse goal entities (>= 2.5x, >= 15 events) and every planted abuser's detection and days,
honest escalations HIGH (any, every party honest) with the entities holding them, honest
entities ever alerted per type.

    python compare.py BEFORE.json AFTER.json
"""

import json
import sys

PATTERNS = ("claim_abuse", "evidence_reuse", "wrong_used_returns", "pilferage", "qc_contradiction", "collusion")


def lines(d: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, s in enumerate(d["per_seed"]):
        seed = s["run"]["seed"]
        for p in PATTERNS:
            c = s[p]
            out[f"{seed} {p}"] = (
                f"ev P {c['event_precision']} R {c['event_recall']} (flagged {c['events_flagged']}/planted {c['events_planted']}); "
                f"en P {c['entity_precision']} R {c['entity_recall']} (alerted {c['entities_alerted']}, planted {c['entities_planted']})"
            )
        h = s["honest"]
        out[f"{seed} honest escalations HIGH"] = (
            f"any {h['escalations_high']}/{h['escalations']}, all-honest parties "
            f"{h['escalations_honest_parties_high']}/{h['escalations_honest_parties']}"
        )
        out[f"{seed} honest HIGH by entity"] = ", ".join(
            f"{k.split(':', 1)[1]} {v}" for k, v in sorted(h.items()) if k.startswith("honest_any_high_by_entity:")
        )
        out[f"{seed} honest ever alerted"] = ", ".join(
            f"{t} {h[t + '_ever_flagged']}/{h[t]}" for t in ("sellers", "buyers", "hubs", "agents")
        )
        ab = [e for e in d["entities"] if e["seed"] == seed and e["pattern"] == "claim_abuse"]
        out[f"{seed} claim abusers"] = ", ".join(
            f"{e['entity'].split(':')[1]}@{e['intensity']}x/{e['events']}ev:"
            + (f"{e['days_to_alert']}d" if e["detected"] else "missed")
            for e in sorted(ab, key=lambda e: e["entity"])
        )
        goal = [e for e in ab if (e["intensity"] or 0) >= 2.5 and e["events"] >= 15]
        out[f"{seed} claim-abuse goal entities"] = f"{sum(e['detected'] for e in goal)}/{len(goal)}"
    tot = [0, 0, 0, 0]
    for s in d["per_seed"]:
        h = s["honest"]
        tot = [a + b for a, b in zip(tot, (h["escalations_high"], h["escalations"], h["escalations_honest_parties_high"], h["escalations_honest_parties"]))]
    out["all honest escalations HIGH"] = f"any {tot[0]}/{tot[1]}, all-honest parties {tot[2]}/{tot[3]}"
    return out


a, b = (lines(json.load(open(p))) for p in sys.argv[1:3])
for k in a:
    if a[k] == b.get(k):
        print(f"{k}: {a[k]}  (same)")
    else:
        print(f"{k}:\n    before {a[k]}\n    after  {b.get(k)}")
