"""Claim abusers side by side in two fraud-eval JSONs (off, on): per planted seller its shown
intensity, events, whether found and the days to its alert; then the honest figures per seed.
    python abusers_onoff.py OFF.json ON.json"""

import json
import sys

off, on = (json.load(open(p)) for p in sys.argv[1:3])


def ents(d: dict) -> dict:
    return {(e["seed"], e["entity"]): e for e in d["entities"] if e["pattern"] == "claim_abuse"}


a, b = ents(off), ents(on)
print("| seed | seller | shown | events | goal | off days | on days |")
print("|---|---|---|---|---|---|---|")
for k in sorted(set(a) | set(b)):
    e, f = a.get(k, {}), b.get(k, {})
    x = e.get("intensity") or f.get("intensity") or 0
    ev = e.get("events") or f.get("events") or 0
    goal = "yes" if x >= 2.5 and ev >= 15 else ""

    def days(g: dict) -> str:
        if not g.get("detected"):
            return "missed"
        return f"{g['days_to_alert']:.1f}" if g.get("days_to_alert") is not None else "found"

    print(f"| {k[0]} | {k[1]} | {x:.1f} | {ev} | {goal} | {days(e)} | {days(f)} |")
print()
for so, sn in zip(off["per_seed"], on["per_seed"]):
    seed = so.get("world", {}).get("seed", "?") if isinstance(so.get("world"), dict) else "?"
    ho, hn = so["honest"], sn["honest"]
    diff = {k: (ho.get(k), hn.get(k)) for k in sorted(set(ho) | set(hn)) if ho.get(k) != hn.get(k)}
    print(f"seed {seed}: honest figures that differ: {diff}")
