"""Print each planted claim abuser's scorings from a trace (trace_abusers.py output)."""
import json, math, sys
from datetime import datetime

for path in sys.argv[1:]:
    d = json.load(open(path))
    w = d["world"]
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    for s in w["abusers"]:
        e = ents[s]
        first = datetime.fromisoformat(w["first_event"][s]) if s in w["first_event"] else None
        print(f"== {s} shown {e['intensity']} events {e['events']} days {e['days_to_alert']}")
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            q = r["seq"]
            t = (datetime.fromisoformat(r["at"]) - first).total_seconds() / 86400 if first else 0
            rec = r.get("recent", {})
            print(f"  d{t:6.2f} k{q['k']:3d} n{q['n']:4d} rate {q['rate']:.3f} conc {q['conc']:6.0f} "
                  f"min_n {q['min_trials']:5.1f} signs {q['signs']:+.2f} lbf {q['log_bf']:5.2f}/{q['alert_at']:.2f} "
                  f"recent {rec.get('log_bf', float('nan')):+.2f} alert {q['alert']} {r['alert_codes']}")
