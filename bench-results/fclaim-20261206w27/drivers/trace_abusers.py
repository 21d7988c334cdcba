"""Trace each planted claim abuser (and named honest sellers) of a world written from the
specification (disputedesk/fraudworld), replayed offline through fraud's own claim-rate reads
(as `fworld_product.py`: `honest_sellers_of`, `whole_record`, the seller alert's level and
guards; not counted: the claims' signs and the claims other parties' fraud explains).

Per traced seller: its deliveries and claims by category, the planted factor and the realised
one (its claims over what an honest seller of its mix files, the world's honest sellers' rates
per category as the oracle), planted claims, and along its record the product's reading at
each of its events (claims, deliveries, the honest rate of its mix, the spread a + b it is
weighed against and from where, log BF) with its best moment; against it two oracles: the
same test against the world's honest rates at a + b of 1,000, and the log likelihood ratio of
a seller knowing its own realised ratio. At the world's end: the market's spreads (the
categories' pooled one, the whole records' one) and the honest shops' own scatter measured
against the oracle rates (method of moments), and which shops `telling_shops` takes out.

usage: PYTHONPATH=<tree> python trace_abusers.py SEED [EXTRA_SELLER...]
"""

import math
import sys
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import PeerSpread, sequential_test
from services.fraud.scoring import claim_abuse as scoring
from services.fraud.scoring.base import default_config

cfg = default_config()
T, SEQ, S = cfg.thresholds, cfg.sequential, cfg.seller_sequential
LEVEL = math.log(1 / S.alpha)
END = datetime(2026, 12, 5, 12, tzinfo=UTC)
MULT = {"ABU1": 2.5, "ABU2": 3.0, "ABU3": 3.5, "ABU4": 4.0, "ABU5": 3.0}


def delivered_at(r):
    return next((s.at for s in r.scans if s.kind == "DELIVERED_TO_SELLER"), None)


def read(everyone, cat, seller):
    own_key = f"{cat}|{seller}"
    got = scoring.honest_sellers_of(
        everyone,
        cat,
        own_key,
        seller,
        T,
        SEQ,
        lambda bases, *out: scoring.whole_records_spread(everyone, bases, T),
    )
    honest = got.population
    mine = everyone[own_key]
    across = (
        claim_abuse.whole_record({**got.cells, cat: (mine["claims"], mine["delivered"])}, got.rates)
        if got.rates
        else None
    )
    src = "category"
    if across is not None:
        across = replace(across, concentration=got.whole_concentration or got.pooled)
        if [c for c, _ in across.categories] == [cat]:
            across = None
    if across is not None:
        k, n = across.claims, across.delivered
        conc = across.concentration or honest.concentration
        spread = PeerSpread(across.rate, conc)
        src = (
            "whole"
            if got.whole_concentration and got.whole_concentration < got.pooled
            else "pooled"
        )
    elif honest is not None:
        k, n, spread = mine["claims"], mine["delivered"], honest
    else:
        return None
    test = sequential_test(k, n, spread, S)
    mind = claim_abuse.min_deliveries(spread.rate, cfg.seller_min_expected_claims)
    return {
        "k": k,
        "n": n,
        "rate": spread.rate,
        "conc": spread.concentration,
        "pooled": got.pooled,
        "whole": got.whole_concentration,
        "src": src,
        "log_bf": test.log_bf,
        "guards": k >= S.min_events and n >= mind,
    }


def main() -> None:
    seed = int(sys.argv[1])
    extra = sys.argv[2:]
    w = build_world(seed, end=END)
    tag = f"W{seed}"
    abusers = sorted(w.truth["claim_abuse"]["seller"])
    planted = set().union(*[ids for by in w.truth.values() for ids in by.values()])
    traced = abusers + [f"{tag}-{x}" if not x.startswith("W") else x for x in extra]
    events = []
    for r in w.returns:
        at = delivered_at(r)
        if at is None:
            continue
        events.append((at, 0, r.seller, r.category, r))
        if r.claim is not None:
            events.append((r.claim.filed_at, 1, r.seller, r.category, r))
    events.sort(key=lambda e: (e[0], e[1]))
    start = min(e[0] for e in events)
    # Oracle: the world's honest sellers' claim rate per category (whole world).
    cells = defaultdict(lambda: [0, 0])
    per_seller = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for at, is_claim, seller, cat, _ in events:
        per_seller[seller][cat][0 if is_claim else 1] += 1
        if seller not in planted and seller not in w.lookalikes["seller"]:
            cells[cat][0 if is_claim else 1] += 1
    oracle = {c: k / n for c, (k, n) in cells.items()}
    print(
        f"== world {seed}: oracle honest rates "
        + ", ".join(f"{c} {r:.3f}" for c, r in sorted(oracle.items()))
    )

    everyone = defaultdict(lambda: {"claims": 0, "delivered": 0})
    running = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    traj = defaultdict(list)
    for at, is_claim, seller, cat, r in events:
        everyone[f"{cat}|{seller}"]["claims" if is_claim else "delivered"] += 1
        running[seller][cat][0 if is_claim else 1] += 1
        if seller not in traced:
            continue
        got = read(everyone, cat, seller)
        if got is None:
            continue
        K = sum(v[0] for v in running[seller].values())
        N = sum(v[1] for v in running[seller].values())
        p0 = sum(v[1] * oracle[c] for c, v in running[seller].items()) / max(N, 1)
        ob = sequential_test(K, N, PeerSpread(p0, 1000.0), S).log_bf
        got.update(day=(at - start).total_seconds() / 86400, oracle_bf=ob, claim=bool(is_claim))
        traj[seller].append(got)

    # Honest shops' own scatter against the oracle (method of moments on whole records).
    xs = []
    for s, cs in per_seller.items():
        if s in planted or s in w.lookalikes["seller"]:
            continue
        K = sum(v[0] for v in cs.values())
        N = sum(v[1] for v in cs.values())
        if N >= 10:
            xs.append((K, N, sum(v[1] * oracle[c] for c, v in cs.items()) / N))
    num = sum((k - n * p) ** 2 - n * p * (1 - p) for k, n, p in xs)
    den = sum(n * (n - 1) * p * (1 - p) for k, n, p in xs)
    rho = num / den if den else 0.0
    print(
        f"honest shops (>= 10 deliveries, no look-alikes) {len(xs)}: overdispersion rho "
        f"{rho:.4f} -> a + b {'inf (binomial)' if rho <= 0 else f'{1 / rho - 1:.0f}'}"
    )

    for s in traced:
        cs = per_seller[s]
        K = sum(v[0] for v in cs.values())
        N = sum(v[1] for v in cs.values())
        p0 = sum(v[1] * oracle[c] for c, v in cs.items()) / max(N, 1)
        rs = [r for r in w.returns if r.seller == s and r.claim is not None]
        abuse = [r for r in rs if r.claim is not None and "claim_abuse" in r.patterns]
        mult = MULT.get(s.rsplit("-", 1)[-1])
        realised = K / max(N, 1) / p0 if p0 else float("nan")
        print(
            f"\n-- {s}: planted {mult or 'honest'}x; {K} claims / {N} delivered; honest mix rate {p0:.3f} "
            f"-> expected {N * p0:.1f}; realised {realised:.2f}x; extra (planted) claims {len(abuse)}"
        )
        print(
            "   by category: "
            + ", ".join(
                f"{c} {v[0]}/{v[1]} (oracle {oracle[c]:.3f})" for c, v in sorted(cs.items())
            )
        )
        kinds = defaultdict(int)
        for r in rs:
            kinds[r.claim.claim_type] += 1
        print("   claim types: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        days = sorted(int((r.claim.filed_at - start).total_seconds() // 86400) for r in rs)
        print(f"   claim days: {days}")
        if K and mult:
            lr = (
                K * math.log(realised) + (N - K) * math.log((1 - p0 * realised) / (1 - p0))
                if realised > 1
                else 0.0
            )
            print(
                f"   oracle knowing its realised ratio {realised:.2f}x: log LR {lr:.2f} at the end (alert at {LEVEL:.2f})"
            )
        t = traj[s]
        if not t:
            print("   never read")
            continue
        best = max(t, key=lambda g: g["log_bf"])
        last = t[-1]
        alerted = next((g for g in t if g["guards"] and g["log_bf"] >= LEVEL), None)
        oracle_alert = next((g for g in t if g["k"] >= 5 and g["oracle_bf"] >= LEVEL), None)
        fmt = lambda g: (
            f"day {g['day']:.1f}: {g['k']}/{g['n']} vs {g['rate']:.3f} a+b {g['conc']:.0f} "
            f"({g['src']}; pooled {g['pooled']:.0f}, whole {g['whole']:.0f}) log BF {g['log_bf']:.2f}, "
            f"oracle(a+b 1000) {g['oracle_bf']:.2f}"
        )
        print(f"   end:  {fmt(last)}")
        print(f"   best: {fmt(best)}")
        print(f"   product alert: {fmt(alerted) if alerted else 'never'}")
        print(f"   oracle alert: {fmt(oracle_alert) if oracle_alert else 'never'}")
        print(
            "   along its claims: "
            + "; ".join(
                f"d{g['day']:.0f} {g['k']}/{g['n']} r{g['rate']:.3f} c{g['conc']:.0f} bf{g['log_bf']:.1f}/o{g['oracle_bf']:.1f}"
                for g in t
                if g["claim"]
            )
        )


if __name__ == "__main__":
    main()
