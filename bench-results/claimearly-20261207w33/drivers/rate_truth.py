"""The honest population's rate each abuser scoring read, against the world's honest sellers'
rate in the category to that moment (claims per delivered return of sellers planted for no
pattern): how much of the rate is other planted sellers', and the days an oracle rate buys."""
import bisect, json, math, statistics, sys
from datetime import datetime

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=0.01)
rows = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    w = d["world"]
    planted = set(w["planted_sellers"])
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    bycat = {}
    for v in w["returns"].values():
        if "delivered" not in v or v.get("seller") in planted or not v.get("category"):
            continue
        c = bycat.setdefault(v["category"], ([], []))
        c[0].append(v["delivered"])
        if "claimed" in v:
            c[1].append(v["claimed"])
    for c in bycat.values():
        c[0].sort(); c[1].sort()
    for s in w["abusers"]:
        if s not in w["first_event"]:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        e = ents[s]
        t_act = t_or = None
        ratios = []
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            q = r["seq"]
            dels, cls = bycat.get(r["category"], ([], []))
            n = bisect.bisect_right(dels, r["at"]); k = bisect.bisect_right(cls, r["at"])
            truth = (k + 1) / (n + 20) if n else q["rate"]
            ratios.append(q["rate"] / truth)
            day = (datetime.fromisoformat(r["at"]) - first).total_seconds() / 86400
            if r["alert_codes"] and t_act is None:
                t_act = day
            l2 = sequential_test(q["k"], q["n"], PeerSpread(truth, q["conc"]), S).log_bf + q["signs"]
            ok = q["k"] >= 5 and q["n"] >= 1 / truth and not r.get("recent", {}).get("demoted", False)
            if t_or is None and ok and l2 >= q["alert_at"]:
                t_or = day
        rows.append((d["seed"], s, e["intensity"], e["events"], t_act, t_or,
                     round(statistics.median(ratios), 2) if ratios else None,
                     round(min(ratios), 2) if ratios else None, round(max(ratios), 2) if ratios else None))
print("seed seller shown events actual oracle_rate read/honest(median,min,max)")
for r in rows:
    print(*r)
g = [r for r in rows if (r[2] or 0) >= 2.5 and r[3] >= 15]
f = lambda xs: statistics.median(xs) if xs else None
print("goal", len(g), "actual", f([r[4] for r in g if r[4] is not None]), "oracle rate", f([r[5] for r in g if r[5] is not None]))
print("all", len(rows), "actual", f([r[4] for r in rows if r[4] is not None]), sum(r[4] is not None for r in rows), "oracle rate", f([r[5] for r in rows if r[5] is not None]), sum(r[5] is not None for r in rows))
