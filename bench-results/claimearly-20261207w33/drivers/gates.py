"""Per planted claim abuser: when the pipeline's test first alerted, and when it would have
without each gate (counterfactuals on the recorded scorings of trace_abusers.py).

Gates: the Bayes factor below the alert (`bf`), the five-claim minimum (`k5`), the deliveries
guard (`min_n`), the recent weeks (`spell`); and, for the factor itself, the honest spread as
read at that scoring against the spread at its cap (`conc1000`) or at the median of the
seller's own readings so far (`conc_med`)."""
import json, math, statistics, sys
from datetime import datetime

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=0.01)


def lbf(k, n, rate, conc):
    return sequential_test(k, n, PeerSpread(rate, conc), S).log_bf


rows = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    w = d["world"]
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    for s in w["abusers"]:
        e = ents[s]
        if s not in w["first_event"]:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        recs = [r for r in d["records"] if r["seller"] == s and "seq" in r]
        t = {}
        def mark(name, day):
            if name not in t:
                t[name] = day
        seen = []
        gate_first = None
        for r in recs:
            q = r["seq"]
            day = (datetime.fromisoformat(r["at"]) - first).total_seconds() / 86400
            seen.append(q["conc"])
            counts = q["log_bf"] - q["signs"]
            at = q["alert_at"]
            k5 = q["k"] >= 5
            nn = q["n"] >= q["min_trials"]
            spell = not r.get("recent", {}).get("demoted", False)
            bf = q["log_bf"] >= at
            if r["alert_codes"]:
                mark("actual", day)
            if bf and k5 and nn and spell:
                mark("test", day)
            if bf:
                mark("bf_only", day)
            if bf and nn and spell:
                mark("no_k5", day)
            if bf and k5 and spell:
                mark("no_min_n", day)
            if bf and k5 and nn:
                mark("no_spell", day)
            cap = lbf(q["k"], q["n"], q["rate"], 1000.0) + q["signs"]
            if cap >= at and k5 and nn and spell:
                mark("conc1000", day)
            med = statistics.median(seen)
            mm = lbf(q["k"], q["n"], q["rate"], med) + q["signs"]
            if mm >= at and k5 and nn and spell:
                mark("conc_med", day)
            # The oracle: the seller's own shown ratio against a binomial honest rate (the
            # rate the test read), no spread, no guards, no signs: what the counts hold.
            r_ = max(x_ := (e["intensity"] or 0), 1.01)
            p_ = q["rate"]
            if r_ * p_ < 1:
                orc = q["k"] * math.log(r_) + (q["n"] - q["k"]) * math.log((1 - r_ * p_) / (1 - p_))
                if orc >= at:
                    mark("oracle", day)
            if counts >= at and k5 and nn and spell:
                mark("no_signs", day)
            if bf and k5 and spell and not nn and "redeliver" not in t:
                # Re-tested on the seller's next deliveries (same population, claims, signs).
                nxt = [x for x in recs if x["at"] > r["at"]]
                until = nxt[0]["at"] if nxt else "9999"
                dels = sorted(
                    v["delivered"] for v in w["returns"].values()
                    if v.get("seller") == s and "delivered" in v and r["at"] < v["delivered"] < until
                )
                for i, at_d in enumerate(dels, 1):
                    n2 = q["n"] + i
                    if n2 >= q["min_trials"]:
                        if lbf(q["k"], n2, q["rate"], q["conc"]) + q["signs"] >= at:
                            mark("redeliver", (datetime.fromisoformat(at_d) - first).total_seconds() / 86400)
                        break
            if bf and k5 and nn and spell:
                mark("redeliver", day)
        rows.append((d["seed"], s, e["intensity"], e["events"], e["days_to_alert"], t))

keys = ["actual", "test", "redeliver", "bf_only", "no_k5", "no_min_n", "no_spell", "conc1000", "conc_med", "no_signs", "oracle"]
print("seed seller shown events | " + " ".join(f"{k:>8}" for k in keys))
for seed, s, x, ev, days, t in rows:
    goal = "*" if (x or 0) >= 2.5 and ev >= 15 else " "
    print(f"{seed} {s} {x} {ev:3d}{goal}| " + " ".join(f"{t.get(k, float('nan')):8.2f}" for k in keys))
for sel, name in ((lambda x, ev: (x or 0) >= 2.5 and ev >= 15, "goal"), (lambda x, ev: True, "all")):
    sub = [r for r in rows if sel(r[2], r[3])]
    print(name, len(sub), " ".join(
        f"{k}:{statistics.median([r[5][k] for r in sub if k in r[5]]) if any(k in r[5] for r in sub) else None:.2f}({sum(k in r[5] for r in sub)})"
        for k in keys))
