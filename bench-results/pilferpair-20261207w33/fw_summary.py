"""The pilferage figures of a fraud-world report: every hub's and agent's band at the end and
whether it was ever HIGH, planted or honest.   python fw_summary.py REPORT.json"""

import json
import sys

d = json.load(open(sys.argv[1]))
r = d["result"]
planted = d["world"]["planted"]["pilferage"]
planted_ids = {x for v in planted.values() for x in v}
print(d["table"])
for key, e in sorted(r["raw"]["entities"].items()):
    kind, eid = key.split(" ", 1)
    if kind not in ("hub", "agent"):
        continue
    if e["band"] == "LOW" and not e["ever"] and eid not in planted_ids:
        continue
    tag = "PLANTED" if eid in planted_ids else "honest"
    codes = [c for c in e["codes"] if "PILFERAGE" in c or "QC" in c or "COLLUSION" in c]
    print(f"{kind} {eid} {tag}: band {e['band']}, ever HIGH {e['ever']}, flagged {e['flagged']}, {codes}")
