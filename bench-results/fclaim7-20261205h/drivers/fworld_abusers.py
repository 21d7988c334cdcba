"""Per planted claim abuser of the spec-only world (disputedesk/fraudworld), offline: its
delivered returns and claims in all, per category, the best single category's sequential factor
(what fraud's per-category test can reach) and the factor of its whole record weighed against
each category's honest rate (indirect standardisation), at the world's end and by day, each
against its honest sellers' rate in the category (an oracle: the world's honest sellers).

usage: python fworld_abusers.py SEED...
"""
import math, sys
from collections import defaultdict
from datetime import UTC, datetime

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=1e-2)
CONC = 1000.0  # the world's honest sellers claim at exactly their category's rate
LEVEL = math.log(1 / S.alpha)


def delivered(r):
    return any(s.kind == "DELIVERED_TO_SELLER" for s in r.scans)


def at_of(r):
    return next(s.at for s in r.scans if s.kind == "DELIVERED_TO_SELLER")


goal = []  # (seed, abuser, days one category, days whole) of abusers at >= 2.5x with >= 15 claims
for seed in map(int, sys.argv[1:]):
    w = build_world(seed, end=datetime(2026, 12, 5, 12, tzinfo=UTC))
    abusers = w.truth["claim_abuse"]["seller"]
    planted = set().union(*[ids for by in w.truth.values() for ids in by.values()])
    cells = defaultdict(lambda: [0, 0])  # honest sellers' (claims, delivered) per category
    for r in w.returns:
        if r.seller in planted or not delivered(r):
            continue
        c = cells[r.category]
        c[1] += 1
        c[0] += r.claim is not None
    rate = {c: k / n for c, (k, n) in cells.items()}
    print(f"== world {seed}: honest rates", {c: round(v, 3) for c, v in sorted(rate.items())})
    for a in sorted(abusers):
        rs = sorted((r for r in w.returns if r.seller == a and delivered(r)), key=at_of)
        events = []  # (time, category, is_claim)
        for r in rs:
            events.append((at_of(r), r.category, 0))
            if r.claim is not None:
                events.append((r.claim.filed_at, r.category, 1))
        events.sort()
        first = min(r.claim.filed_at for r in rs if r.claim is not None and "claim_abuse" in r.claim.patterns)
        k = defaultdict(int); n = defaultdict(int)
        cell_day = whole_day = None
        for t, c, is_claim in events:
            if is_claim: k[c] += 1
            else: n[c] += 1
            day = (t - first).total_seconds() / 86400
            best = max(sequential_test(k[x], n[x], PeerSpread(rate[x], CONC), S).log_bf if k[x] >= 5 and n[x] >= 1 / rate[x] else -99 for x in n)
            K, N = sum(k.values()), sum(n.values())
            pbar = sum(n[x] * rate[x] for x in n) / N
            whole = sequential_test(K, N, PeerSpread(pbar, CONC), S).log_bf if K >= 5 and N >= 1 / pbar else -99
            if cell_day is None and best >= LEVEL: cell_day = day
            if whole_day is None and whole >= LEVEL: whole_day = day
        K, N = sum(k.values()), sum(n.values())
        pbar = sum(n[x] * rate[x] for x in n) / N
        top = max(n, key=lambda x: sequential_test(k[x], n[x], PeerSpread(rate[x], CONC), S).log_bf)
        print(f"  {a}: {K} claims in {N} delivered ({K / N / pbar:.1f}x its categories' {pbar:.3f}); "
              f"{len(n)} categories, the best {top} {k[top]}/{n[top]} "
              f"log BF {sequential_test(k[top], n[top], PeerSpread(rate[top], CONC), S).log_bf:.1f}; "
              f"whole record log BF {sequential_test(K, N, PeerSpread(pbar, CONC), S).log_bf:.1f}; "
              f"days to {LEVEL:.1f}: one category {cell_day and round(cell_day, 1)}, whole {whole_day and round(whole_day, 1)}")
        if K / N / pbar >= 2.5 and K >= 15:
            goal.append((seed, a, cell_day, whole_day))


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2 if xs else None


for label, i in (("one category at a time", 2), ("whole record", 3)):
    days = [g[i] for g in goal if g[i] is not None]
    print(f"goal abusers (>= 2.5x shown, >= 15 claims) reaching the alert, {label}: "
          f"{len(days)}/{len(goal)}, median days {median(days) and round(median(days), 1)}")
