"""The per-abuser table of the diagnosis (markdown): from the traces, the days from the first
planted claim to each milestone, and the days each gate held the alert.

columns: shown (realized ratio), claims (relevant events), dpd (deliveries a day), 5th (its fifth
claim), BF (first scoring whose factor, signs included, reached the alert, guards aside),
alert (the first alert), and the days lost to: k5 (five claims), min_n (deliveries guard), spell
(the recent weeks), spread (the honest spread as read against its cap, 1000), signs (negative:
days the signs gained); oracle (the seller's own ratio against a binomial honest rate at the rate
read, no guards, no signs, no spread: what the counts hold)."""
import json, math, statistics, sys
from datetime import datetime

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=0.01)


def lbf(k, n, rate, conc):
    return sequential_test(k, n, PeerSpread(rate, conc), S).log_bf


def fmt(x):
    return "–" if x is None else f"{x:.1f}"


out = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    w = d["world"]
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    for s in w["abusers"]:
        if s not in w["first_event"]:
            continue
        e = ents[s]
        first = datetime.fromisoformat(w["first_event"][s])
        dels = sorted(datetime.fromisoformat(v["delivered"]) for v in w["returns"].values()
                      if v.get("seller") == s and "delivered" in v)
        span = max((dels[-1] - dels[0]).total_seconds() / 86400, 1) if dels else 1
        cl = sorted(v["claimed"] for v in w["returns"].values()
                    if v.get("seller") == s and "claimed" in v and "delivered" in v)
        fifth = (datetime.fromisoformat(cl[4]) - first).total_seconds() / 86400 if len(cl) >= 5 else None
        t = {}
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            q = r["seq"]
            day = (datetime.fromisoformat(r["at"]) - first).total_seconds() / 86400
            at = q["alert_at"]
            k5, nn = q["k"] >= 5, q["n"] >= q["min_trials"]
            spell = not r.get("recent", {}).get("demoted", False)
            bf = q["log_bf"] >= at
            cap = lbf(q["k"], q["n"], q["rate"], 1000.0) + q["signs"] >= at
            counts = q["log_bf"] - q["signs"] >= at
            for name, cond in (
                ("alert", bool(r["alert_codes"])),
                ("test", bf and k5 and nn and spell),
                ("bf", bf),
                ("no_k5", bf and nn and spell),
                ("no_min_n", bf and k5 and spell),
                ("no_spell", bf and k5 and nn),
                ("cap", cap and k5 and nn and spell),
                ("no_signs", counts and k5 and nn and spell),
            ):
                if cond and name not in t:
                    t[name] = day
            x = e["intensity"] or 0
            if x > 1 and x * q["rate"] < 1 and "oracle" not in t:
                o = q["k"] * math.log(x) + (q["n"] - q["k"]) * math.log((1 - x * q["rate"]) / (1 - q["rate"]))
                if o >= at:
                    t["oracle"] = day
        a = t.get("alert")

        def lost(name):
            if a is None:
                return None if name not in t else f"found {t[name]:.1f}"
            return a - t.get(name, a) if name in t else None

        out.append({
            "seed": d["seed"], "seller": s, "shown": e["intensity"], "claims": e["events"],
            "goal": (e["intensity"] or 0) >= 2.5 and e["events"] >= 15,
            "dpd": len(dels) / span, "fifth": fifth, "bf": t.get("bf"), "alert": a,
            "k5": lost("no_k5"), "min_n": lost("no_min_n"), "spell": lost("no_spell"),
            "spread": lost("cap"), "signs": (None if a is None or "no_signs" not in t else t["no_signs"] - a) if a is not None else None,
            "no_signs_at": t.get("no_signs"), "oracle": t.get("oracle"),
        })


def cell(v):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else ""
    return f"{v:.1f}" if isinstance(v, float) else str(v)


cols = ["seed", "seller", "shown", "claims", "goal", "dpd", "fifth", "bf", "alert", "k5", "min_n", "spell", "spread", "no_signs_at", "oracle"]
print("| " + " | ".join(cols) + " |")
print("|" + "---|" * len(cols))
for r in out:
    print("| " + " | ".join(cell(r[c]) for c in cols) + " |")
for name, sel in (("goal", lambda r: r["goal"]), ("all", lambda r: True)):
    g = [r for r in out if sel(r)]
    def med(key):
        xs = [r[key] for r in g if isinstance(r[key], (int, float)) and not isinstance(r[key], bool)]
        return f"{statistics.median(xs):.1f} ({len(xs)})" if xs else "–"
    def tot(key):
        xs = [r[key] for r in g if isinstance(r[key], (int, float)) and not isinstance(r[key], bool)]
        return f"{sum(xs):.1f}"
    print(f"\n{name}: {len(g)} abusers; median 5th claim {med('fifth')}, factor at the alert {med('bf')}, alert {med('alert')}, "
          f"without signs {med('no_signs_at')}, oracle {med('oracle')}; days lost in all: k5 {tot('k5')}, min_n {tot('min_n')}, spell {tot('spell')}, spread {tot('spread')}")
