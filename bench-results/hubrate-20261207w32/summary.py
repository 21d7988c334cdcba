"""The figures this change is judged on, from fraud-world JSON reports: pilferage event and
entity P / R, honest hubs and agents flagged (ever HIGH), the bad-day hub's band, honest
escalations HIGH, and the hubs/agents flagged that the world did not plant.
    python summary.py REPORT.json [...]"""

from __future__ import annotations

import json
import sys

for path in sys.argv[1:]:
    r = json.load(open(path))["result"]
    ents = r["honest_entities"]
    pil = r["events"].get("pilferage") if isinstance(r.get("events"), dict) else None
    pent = r["entities"].get("pilferage") if isinstance(r.get("entities"), dict) else None
    bad = {k: v for k, v in r["lookalikes"].items() if k.startswith("hub ")}
    false = [f for f in r.get("false_entities", []) if "hub" in json.dumps(f) or "agent" in json.dumps(f)] if isinstance(r.get("false_entities"), list) else r.get("false_entities")
    print(path)
    print("  pilferage events", json.dumps(pil)[:300])
    print("  pilferage entities", json.dumps(pent)[:300])
    print("  honest hubs", ents["hub"], "agents", ents["agent"])
    print("  bad-day hub", bad)
    print("  honest escalations", r["honest_escalations"])
    print("  false entities", json.dumps(false)[:600])
    print("  missed entities", json.dumps(r.get("missed_entities"))[:600])
