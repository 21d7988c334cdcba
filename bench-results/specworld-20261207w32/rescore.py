"""Score a finished fraud-world run again from its JSON (every claim's band and codes, every
entity fraud had something on) against the world's labels as the code now draws them: the same
world (a seed draws the same returns), so only the truth can differ. Days to the alert are the
run's (they need the API's risk histories).
    python rescore.py SEED END_ISO RUN_JSON"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from disputedesk.fraudworld.score import LABELS, PATTERN_TYPES, pattern_of
from disputedesk.fraudworld.world import ENTITY_TYPES, PATTERNS, build_world

seed, end, path = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
run = json.load(open(path))
raw = run["result"]["raw"]
world = build_world(seed, end=end)
fraud = world.fraud_entities()
claims = {r.return_id: (r, c) for r, c in world.claims}
assessed = raw["claims"]


def r2(a: int, b: int) -> str:
    return "—" if not b else f"{a / b:.2f}"


rows = []
for p in PATTERNS:
    planted = [r for r in assessed if p in claims[r][1].patterns]
    high = [r for r in planted if assessed[r]["band"] == "HIGH"]
    attributed = [
        r
        for r, a in assessed.items()
        if a["band"] == "HIGH" and p in {pattern_of(c) for c in a["codes"]}
    ]
    right = [r for r in attributed if claims[r][1].patterns]
    truth = {(t, e) for t in PATTERN_TYPES[p] for e in world.truth[p][t]}
    ents = {tuple(k.split(" ", 1)): v for k, v in raw["entities"].items()}
    flagged = [k for k in truth if ents.get(k, {}).get("flagged")]
    predicted = [
        k
        for k, v in ents.items()
        if k[0] in PATTERN_TYPES[p]
        and v["flagged"]
        and p in {pattern_of(c) for c in v["codes"]}
    ]
    correct = [k for k in predicted if k[1] in fraud[k[0]]]
    days = run["result"]["entities"][p]["median_days_to_alert"]
    rows.append(
        f"| {LABELS[p]} | {r2(len(right), len(attributed))} / {r2(len(high), len(planted))} | "
        f"{r2(len(correct), len(predicted))} / {r2(len(flagged), len(truth))} | "
        f"{len(planted)} / {len(truth)} | {'—' if days is None else days} |"
    )
honest_claims = [r for r in assessed if not claims[r][1].patterns]
print(f"seed {seed}, scored again on the world's labels now ({path})")
print("| pattern | event P / R | entity P / R | planted claims / entities | median days (run's) |")
print("|---|---|---|---|---|")
print("\n".join(rows))
ents = {tuple(k.split(" ", 1)): v for k, v in raw["entities"].items()}
out = []
for t in ENTITY_TYPES:
    honest = [e for e in world.entities[t] if e not in fraud[t]]
    out.append(
        f"{t} {sum(ents.get((t, e), {}).get('flagged', False) for e in honest)} of {len(honest)} "
        f"({sum(ents.get((t, e), {}).get('ever', False) for e in honest)})"
    )
print("Honest entities flagged (ever):", ", ".join(out))
print(
    f"Honest escalations HIGH: {sum(assessed[r]['band'] == 'HIGH' for r in honest_claims)} of "
    f"{len(honest_claims)}; unshown: {world.unshown}"
)
