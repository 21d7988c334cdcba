"""Counterfactual: a seller's deliveries whose claim window is still open weighed as the
evidence they are. Under the honest population an open delivery unclaimed so far counts as
F0(age) of a trial (F0: the world's honest claims' delay after delivery, read from its honest
sellers' claims); the alternative is a mixture of an abuser claiming with honest delays (the
same weights) and one filing as the window closes (an open delivery is no trial for it yet).
Counts read at each recorded scoring from the world (claims on delivered returns), the honest
population's rate and spread, the signs and the guards as the scoring read them."""
import bisect, json, math, statistics, sys
from datetime import datetime

from services.fraud.detectors.stats import Sequential, _log_beta, _alternatives, alternative_rate

S = Sequential(alpha=0.01)
W = 168.0


def alt_ll(k, n, p):
    terms = []
    for ratio, lw in _alternatives(S):
        q = alternative_rate(p, ratio)
        terms.append(lw + k * math.log(q) + (n - k) * math.log1p(-q))
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def null_ll(k, n, p, c):
    a, b = p * c, (1 - p) * c
    return _log_beta(k + a, n - k + b) - _log_beta(a, b)


rows = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    w = d["world"]
    planted = set(w["planted_sellers"])
    delays = sorted(
        (datetime.fromisoformat(v["claimed"]) - datetime.fromisoformat(v["delivered"])).total_seconds() / 3600
        for v in w["returns"].values()
        if "claimed" in v and "delivered" in v and v.get("seller") not in planted
        and v["claimed"] > v["delivered"]
    )

    def F0(h):
        return bisect.bisect_right(delays, h) / len(delays) if delays else 1.0

    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    for s in w["abusers"]:
        if s not in w["first_event"]:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        mine = [v for v in w["returns"].values() if v.get("seller") == s and "delivered" in v]
        e = ents[s]
        t_act = t_new = t_hon = t_base = None
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            q = r["seq"]
            now = datetime.fromisoformat(r["at"])
            day = (now - first).total_seconds() / 86400
            if r["alert_codes"] and t_act is None:
                t_act = day
            # The world's own counts now (the scoring's k, n may leave explained returns out;
            # scale to them).
            k = n_closed = 0
            young_w = 0.0
            young_unclaimed = 0
            for v in mine:
                dt = datetime.fromisoformat(v["delivered"])
                if dt > now:
                    continue
                claimed = "claimed" in v and datetime.fromisoformat(v["claimed"]) <= now
                age = (now - dt).total_seconds() / 3600
                if claimed:
                    k += 1
                    n_closed += 1
                elif age >= W:
                    n_closed += 1
                else:
                    young_unclaimed += 1
                    young_w += F0(age)
            p, c = q["rate"], q["conc"]
            # as the test reads it: every delivery a trial
            base = alt_ll(k, n_closed + young_unclaimed, p) - null_ll(k, n_closed + young_unclaimed, p, c)
            # honest-delay abuser: open deliveries at F0 on both sides
            hon_alt = alt_ll(k, n_closed + young_w, p)
            null = null_ll(k, n_closed + young_w, p, c)
            late_alt = alt_ll(k, n_closed, p)
            mix = math.log(0.5 * math.exp(hon_alt - null) + 0.5 * math.exp(late_alt - null))
            hon = hon_alt - null
            at = q["alert_at"]
            ok = q["k"] >= 5 and q["n"] >= q["min_trials"] and not r.get("recent", {}).get("demoted", False)
            if t_new is None and ok and mix + q["signs"] >= at:
                t_new = day
            if t_base is None and ok and base + q["signs"] >= at:
                t_base = day
            if t_hon is None and ok and hon + q["signs"] >= at:
                t_hon = day
        rows.append((d["seed"], s, e["intensity"], e["events"], t_act, t_base, t_hon, t_new))
print("seed seller shown events actual world_counts open_at_F0 open_at_F0_or_late_filer")
for r in rows:
    print(*[round(x, 2) if isinstance(x, float) else x for x in r])
for name, sel in (("goal", lambda r: (r[2] or 0) >= 2.5 and r[3] >= 15), ("all", lambda r: True)):
    g = [r for r in rows if sel(r)]
    print(name, len(g), *[
        (statistics.median([r[i] for r in g if r[i] is not None]) if any(r[i] is not None for r in g) else None,
         sum(r[i] is not None for r in g)) for i in (4, 5, 6, 7)])
