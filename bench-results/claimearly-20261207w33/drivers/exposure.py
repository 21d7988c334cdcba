"""Counterfactual: deliveries weighed by the share of an ordinary claim's delay they have been
exposed to (F(age), honest delays 2 h + Exp(mean) as the dev worlds draw them), for the abuser
and its category alike. When would each abuser's test have alerted?"""
import json, math, statistics, sys
from datetime import datetime

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=0.01)
MEAN = float(sys.argv[1])
W = 168.0


def F(h):
    return 0.0 if h < 2 else min(1.0, 1 - math.exp(-(h - 2) / MEAN)) if h < W else 1.0


out = []
for path in sys.argv[2:]:
    d = json.load(open(path))
    w = d["world"]
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    rets = w["returns"]
    for s in w["abusers"]:
        if s not in w["first_event"]:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        e = ents[s]
        cat = None
        mine = [v for v in rets.values() if v.get("seller") == s]
        if mine:
            cat = mine[0]["category"]
        catrets = [v for v in rets.values() if v.get("category") == cat and v.get("seller") != s and "delivered" in v]
        t_act = t_exp = None
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            q = r["seq"]
            now = datetime.fromisoformat(r["at"])
            day = (now - first).total_seconds() / 86400

            def eff(rs):
                n = ne = 0.0
                for v in rs:
                    dt = datetime.fromisoformat(v["delivered"])
                    if dt > now:
                        continue
                    age = (now - dt).total_seconds() / 3600
                    claimed = "claimed" in v and datetime.fromisoformat(v["claimed"]) <= now
                    n += 1
                    ne += 1.0 if claimed else F(age)
                return n, ne

            n_own, ne_own = eff([v for v in mine if "delivered" in v])
            n_cat, ne_cat = eff(catrets)
            shrink = ne_own / n_own if n_own else 1
            nn = q["n"] * shrink
            rate = q["rate"] * (n_cat / ne_cat if ne_cat else 1)
            l2 = sequential_test(q["k"], round(nn), PeerSpread(rate, q["conc"]), S).log_bf + q["signs"]
            ok = q["k"] >= 5 and not r.get("recent", {}).get("demoted", False)
            if r["alert_codes"] and t_act is None:
                t_act = day
            if t_exp is None and ok and nn >= 1 / rate and l2 >= q["alert_at"]:
                t_exp = day
        out.append((d["seed"], s, e["intensity"], e["events"], t_act, t_exp))
for o in out:
    print(*o)
g = [o for o in out if (o[2] or 0) >= 2.5 and o[3] >= 15]
print("goal actual", statistics.median([o[4] for o in g if o[4] is not None] or [0]), "exposure", statistics.median([o[5] for o in g if o[5] is not None] or [0]), sum(o[5] is not None for o in g), len(g))
