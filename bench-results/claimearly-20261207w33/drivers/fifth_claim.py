"""Each planted abuser's fifth claim on a delivered return, in days after its first planted
claim: the earliest any rule keeping the five-claim guard can alert it."""
import json, statistics, sys
from datetime import datetime

rows = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    w = d["world"]
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    for s in w["abusers"]:
        if s not in w["first_event"]:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        cl = sorted(v["claimed"] for v in w["returns"].values()
                    if v.get("seller") == s and "claimed" in v and "delivered" in v)
        dels = [v for v in w["returns"].values() if v.get("seller") == s and "delivered" in v]
        span = (max(datetime.fromisoformat(v["delivered"]) for v in dels) - min(datetime.fromisoformat(v["delivered"]) for v in dels)).days or 1
        fifth = (datetime.fromisoformat(cl[4]) - first).total_seconds() / 86400 if len(cl) >= 5 else None
        e = ents[s]
        rows.append((d["seed"], s, e["intensity"], e["events"], round(len(dels) / span, 2), fifth, e["days_to_alert"]))
print("seed seller shown events deliveries/day fifth_claim_day alert_day")
for r in rows:
    print(*[round(x, 2) if isinstance(x, float) else x for x in r])
g = [r for r in rows if (r[2] or 0) >= 2.5 and r[3] >= 15]
print("goal", len(g), "fifth claim <= 7 days:", sum(1 for r in g if r[5] is not None and r[5] <= 7),
      "median fifth", statistics.median([r[5] for r in g if r[5] is not None]) if g else None,
      "median alert", statistics.median([r[6] for r in g if r[6] is not None]) if g else None)
