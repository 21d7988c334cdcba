"""Per planted claim abuser, from trace_abusers.py's traces: its claims over time and when its
seller test crosses what.

For each abuser (days from its first planted claim): the days of its claims (honest ones before
the first planted claim negative), its deliveries a day, and the first scoring at which the
sequential test's log factor (signs included) reaches log 20, log 50 and log 100 (guards aside),
the counts' part alone reaches log 100, the five-claim minimum is met, the deliveries guard is
met, the recent weeks demote it, and the alert; at the alert, the log factor's parts (counts,
signs) and the honest rate and concentration read.

usage: python crossings.py TRACE...
"""

import gzip
import json
import math
import statistics
import sys
from datetime import datetime


def day(at: str, first: datetime) -> float:
    return (datetime.fromisoformat(at) - first).total_seconds() / 86400


def main() -> None:
    rows = []
    for path in sys.argv[1:]:
        d = json.load(gzip.open(path, "rt") if path.endswith(".gz") else open(path))
        w = d["world"]
        ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
        for s in w["abusers"]:
            if s not in w["first_event"]:
                continue
            first = datetime.fromisoformat(w["first_event"][s])
            rets = [v for v in w["returns"].values() if v.get("seller") == s and "delivered" in v]
            dels = sorted(datetime.fromisoformat(v["delivered"]) for v in rets)
            span = max((dels[-1] - dels[0]).total_seconds() / 86400, 1) if dels else 1
            claims = sorted(day(v["claimed"], first) for v in rets if "claimed" in v)
            light = sum(1 for v in rets if "claimed" in v and v.get("incident"))
            delays = [
                (datetime.fromisoformat(v["claimed"]) - datetime.fromisoformat(v["delivered"])).total_seconds() / 3600
                for v in rets
                if "claimed" in v
            ]
            late = sum(1 for h in delays if h >= 156)
            t: dict[str, float] = {}
            at_alert = None
            for r in d["records"]:
                if r["seller"] != s or "seq" not in r:
                    continue
                q = r["seq"]
                dd = day(r["at"], first)
                marks = {
                    "f20": q["log_bf"] >= math.log(20),
                    "f50": q["log_bf"] >= math.log(50),
                    "f100": q["log_bf"] >= q["alert_at"],
                    "counts100": q["log_bf"] - q["signs"] >= q["alert_at"],
                    "k5": q["k"] >= q["min_events"],
                    "minN": q["n"] >= q["min_trials"],
                    "demoted": bool(r.get("recent", {}).get("demoted", False)),
                    "alert": bool(r["alert_codes"]),
                }
                for name, hit in marks.items():
                    if hit and name not in t:
                        t[name] = dd
                if marks["alert"] and at_alert is None:
                    at = datetime.fromisoformat(r["at"])
                    # deliveries whose 168 h claim window is still open at the alert, and the
                    # ones of them claimed already
                    opened = [
                        v for v in rets
                        if 0 <= (at - datetime.fromisoformat(v["delivered"])).total_seconds() < 168 * 3600
                    ]
                    at_alert = dict(q, open=len(opened), open_claimed=sum(
                        1 for v in opened if "claimed" in v and datetime.fromisoformat(v["claimed"]) <= at))
            e = ents.get(s, {})
            rows.append((d["seed"], s, e, claims, light, len(dels) / span, t, at_alert, late, len(delays)))
    alerts = []
    goal_alerts = []
    for seed, s, e, claims, light, dpd, t, q, late, nclaims in rows:
        x = e.get("intensity") or 0
        goal = x >= 2.5 and (e.get("events") or 0) >= 15
        print(
            f"## {seed} {s}: shown {x:.1f}x, {e.get('events')} planted-window claims"
            f"{' (goal)' if goal else ''}, {dpd:.2f} deliveries/day, {light} claims on light parcels, "
            f"{late} of {nclaims} claims filed 156 h or more after delivery"
        )
        print("claims (days from first planted): " + " ".join(f"{c:.1f}" for c in claims))
        print(
            "first scoring at: "
            + ", ".join(f"{k} {t[k]:.1f}" if k in t else f"{k} –" for k in
                        ("f20", "f50", "f100", "counts100", "k5", "minN", "demoted", "alert"))
        )
        if q is not None:
            print(
                f"at the alert: k {q['k']} n {q['n']} rate {q['rate']:.3f} conc {q['conc']:.0f} "
                f"min_n {q['min_trials']:.1f} log BF {q['log_bf']:.2f} (counts {q['log_bf'] - q['signs']:.2f}, "
                f"signs {q['signs']:.2f}); deliveries in an open claim window {q['open']} ({q['open_claimed']} claimed)"
            )
            alerts.append(t["alert"])
            if goal:
                goal_alerts.append(t["alert"])
        print()
    if alerts:
        print(f"found {len(alerts)} of {len(rows)}; median days to alert {statistics.median(alerts):.1f}")
    if goal_alerts:
        print(f"goal abusers found {len(goal_alerts)}; median {statistics.median(goal_alerts):.1f}")


if __name__ == "__main__":
    main()
