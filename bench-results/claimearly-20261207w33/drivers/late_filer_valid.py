"""Counterfactual, as a proper likelihood ratio: a seller's record read as claims with their
delays and deliveries still open, against the honest population with the market's honest delays.

Data at a scoring: each delivery of the seller, claimed (with its delay d) or not yet (with its
age a). Honest population: claim probability pi from the honest Beta, delay G0 (the world's
honest claims' delays, read from its honest sellers). Alternative: pi = ratio x p (the test's
mixture of ratios) and a share lam of its claims filed in the last 12 h of the 168 h window
(lam 0 with weight 0.5, 0.5 and 0.9 with 0.25 each): a claim weighs rp (lam u(d) + (1-lam) g0(d)),
an open delivery 1 - rp (lam [a >= 156 h] + (1-lam) G0(a)). The honest side's open deliveries are
G0(a) of a trial (beta-binomial on fractional trials; 1 - p G0 ~ (1 - p)^G0). The claims' delays
are then weighed here (g0 and u cancel outside the late zone), so the late sign of `signs_log_bf`
is taken out of the scoring's signs (recomputed from the world) and this replaces it."""
import bisect, json, math, statistics, sys
from datetime import datetime

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import Sequential, _alternatives, _log_beta, alternative_rate

S = Sequential(alpha=0.01)
W, LATE = 168.0, 156.0
LAMS = ((0.0, 0.5), (0.5, 0.25), (0.9, 0.25))


def null_ll(k, n, p, c):
    a, b = p * c, (1 - p) * c
    return _log_beta(k + a, n - k + b) - _log_beta(a, b)


rows = []
for path in [a for a in sys.argv[1:] if not a.startswith("--")]:
    d = json.load(open(path))
    w = d["world"]
    planted = set(w["planted_sellers"])
    delays = sorted(
        (datetime.fromisoformat(v["claimed"]) - datetime.fromisoformat(v["delivered"])).total_seconds() / 3600
        for v in w["returns"].values()
        if "claimed" in v and "delivered" in v and v.get("seller") not in planted and v["claimed"] > v["delivered"]
    )
    p_late0 = max(sum(1 for x in delays if LATE <= x <= W) / max(len(delays), 1), 0.05)

    def G0(h):
        return bisect.bisect_right(delays, h) / len(delays) if delays else 1.0

    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    everyone = sorted({r["seller"] for r in d["records"] if r.get("seller")})
    ALL = "--honest" in sys.argv
    for s in (everyone if ALL else w["abusers"]):
        if s in w["abusers"] and s not in w["first_event"]:
            continue
        if ALL and s in planted:
            continue
        first = datetime.fromisoformat(w["first_event"][s]) if s in w["first_event"] else datetime.fromisoformat("2026-01-01T00:00:00+00:00")
        mine = [v for v in w["returns"].values() if v.get("seller") == s and "delivered" in v]
        e = ents.get(s, {"intensity": None, "events": 0})
        t_act = t_base = t_new = None
        top_base = top_new = -1e9
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            q = r["seq"]
            now = datetime.fromisoformat(r["at"])
            day = (now - first).total_seconds() / 86400
            if r["alert_codes"] and t_act is None:
                t_act = day
            claims = []  # delays of claims
            opened = []  # ages of open unclaimed deliveries
            closed = 0
            for v in mine:
                dt = datetime.fromisoformat(v["delivered"])
                if dt > now:
                    continue
                if "claimed" in v and datetime.fromisoformat(v["claimed"]) <= now:
                    claims.append((datetime.fromisoformat(v["claimed"]) - dt).total_seconds() / 3600)
                else:
                    age = (now - dt).total_seconds() / 3600
                    if age >= W:
                        closed += 1
                    else:
                        opened.append(age)
            k = len(claims)
            n_all = k + closed + len(opened)
            p, c = q["rate"], q["conc"]
            late_k = sum(1 for x in claims if LATE <= x <= W)
            late_sign = claim_abuse.signs_log_bf(late_k, k, p_late0, floor=0.05)
            other_signs = q["signs"] - late_sign
            # as the test reads it (every delivery a trial), its signs as they were
            terms = []
            for ratio, lw in _alternatives(S):
                rp = alternative_rate(p, ratio)
                terms.append(lw + k * math.log(rp) + (n_all - k) * math.log1p(-rp))
            top = max(terms)
            base = top + math.log(sum(math.exp(t - top) for t in terms)) - null_ll(k, n_all, p, c) + q["signs"]
            # the proper reading
            n_null = k + closed + sum(G0(a) for a in opened)
            null = null_ll(k, n_null, p, c)
            terms = []
            for ratio, lw in _alternatives(S):
                rp = alternative_rate(p, ratio)
                for lam, wl in LAMS:
                    ll = lw + math.log(wl) + k * math.log(rp) + closed * math.log1p(-rp)
                    for x in claims:
                        zone = LATE <= x <= W
                        # delay factor against the honest delays: in the late zone
                        # lam / p_late0 + (1 - lam), elsewhere (1 - lam)
                        f = (lam / p_late0 + (1 - lam)) if zone else (1 - lam)
                        ll += math.log(max(f, 1e-300))
                    for a in opened:
                        ll += math.log1p(-rp * (lam * (a >= LATE) + (1 - lam) * G0(a)))
                    terms.append(ll)
            top = max(terms)
            new = top + math.log(sum(math.exp(t - top) for t in terms)) - null + other_signs
            at = q["alert_at"]
            ok = q["k"] >= 5 and q["n"] >= q["min_trials"] and not r.get("recent", {}).get("demoted", False)
            top_base, top_new = max(top_base, base), max(top_new, new)
            if t_base is None and ok and base >= at:
                t_base = day
            if t_new is None and ok and new >= at:
                t_new = day
        rows.append((d["seed"], s, e["intensity"], e["events"], t_act, t_base, t_new, top_base, top_new))
if "--honest" in sys.argv:
    print("honest sellers scored:", len(rows), "ever alerted: pipeline", sum(r[4] is not None for r in rows),
          "test as read", sum(r[5] is not None for r in rows), "open windows", sum(r[6] is not None for r in rows))
    for r in rows:
        if r[4] is not None or r[5] is not None or r[6] is not None:
            print(*r[:7])
    diffs = [r[8] - r[7] for r in rows if r[7] > -1e8]
    print("honest sellers' highest log factor, open windows minus as read: median %.3f, mean %.3f, "
          "share higher %.2f, of %d" % (statistics.median(diffs), statistics.mean(diffs),
          sum(x > 0 for x in diffs) / len(diffs), len(diffs)))
    hi = [r for r in rows if r[7] > 2.0]
    d2 = [r[8] - r[7] for r in hi]
    if d2:
        print("  those above e^2 as read: median %.3f, mean %.3f, %d" % (statistics.median(d2), statistics.mean(d2), len(d2)))
    sys.exit()
print("seed seller shown events actual world_counts delays_and_open_windows")
for r in rows:
    print(*[round(x, 2) if isinstance(x, float) else x for x in r])
for name, sel in (("goal", lambda r: (r[2] or 0) >= 2.5 and r[3] >= 15), ("all", lambda r: True)):
    g = [r for r in rows if sel(r)]
    print(name, len(g), *[
        (statistics.median([r[i] for r in g if r[i] is not None]) if any(r[i] is not None for r in g) else None,
         sum(r[i] is not None for r in g)) for i in (4, 5, 6)])
