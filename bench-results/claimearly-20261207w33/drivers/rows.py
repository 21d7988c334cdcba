"""The journal's before -> after rows from two fraud-eval-direct.json files.
    python rows.py BEFORE.json AFTER.json"""
import json
import sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])


def goal(d):
    c = d["pooled"]["power"].get("claim_abuse", {})
    return c.get("goal_median_days_to_alert"), c.get("goal_detected"), c.get("goal_planted")


def row(name, f):
    print(f"| {name} | {f(a)} → {f(b)} |")


ca = lambda d: d["pooled"]["claim_abuse"]
h = lambda d: d["pooled"]["honest"]
row("claim abuse entity P / R", lambda d: f"{ca(d)['entity_precision']:.2f} / {ca(d)['entity_recall']:.2f}")
row("claim abuse event P / R", lambda d: f"{ca(d)['event_precision']:.2f} / {ca(d)['event_recall']:.2f}")
row("median days, abusers found", lambda d: f"{ca(d)['median_days_to_alert']}")
row("median days, goal abusers (found / planted)", lambda d: "{} ({}/{})".format(*goal(d)))
row("honest sellers ever alerted", lambda d: f"{h(d)['sellers_ever_flagged']}/{h(d)['sellers']}")
row("honest escalations HIGH (every party honest)", lambda d: f"{h(d)['escalations_high']}/{h(d)['escalations']} ({h(d)['escalations_honest_parties_high']}/{h(d)['escalations_honest_parties']})")
row("look-alikes ever alerted", lambda d: str(sum(v for k, v in h(d).items() if k.startswith("lookalike_") and k.endswith("_ever_flagged"))))
