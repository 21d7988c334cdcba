"""Each planted pilferer of a fraud-eval-direct.json, before and after: found, days to alert.
    python pilferers.py BEFORE.json AFTER.json"""
import json
import sys

b, a = (json.load(open(p)) for p in sys.argv[1:3])
key = lambda e: (e.get("seed"), e["entity"])  # noqa: E731
eb = {key(e): e for e in b["entities"] if e["pattern"] == "pilferage"}
for e in a["entities"]:
    if e["pattern"] != "pilferage":
        continue
    o = eb.get(key(e), {})
    tag = "SAME" if (o.get("detected"), o.get("days_to_alert")) == (e["detected"], e["days_to_alert"]) else "DIFF"
    print(f"{e.get('seed')} {e['entity']:22s} x{e['intensity']:.2f} ev {e['events']:3d} before {o.get('detected')} {o.get('days_to_alert')} after {e['detected']} {e['days_to_alert']} {tag}")
