"""The spec-only worlds (disputedesk/fraudworld) replayed offline through fraud's own claim-rate
code, event by event: every delivery and claim of every seller, in world time, updates the
sellers' counts (the long window holds the whole world), and the seller's test is read as
`ClaimInputs.seller_tests` reads it: `honest_sellers_of` on every seller's counts (the
category's honest population, the other categories' honest rates, the whole records' spread),
`whole_record`, the sequential test at the seller alert's level with its guards, and the
recent weeks (`recent_rate`, `after_spell`). Not counted: the claims' signs (late,
MISSING_ITEM intact, dear) and the claims other parties' fraud explains.

Prints per planted claim abuser the day it is first alerted (from its first planted claim),
and every honest seller ever alerted (a seller planted in no pattern).

usage: PYTHONPATH=<tree> python fworld_product.py SEED...
"""

import math, sys, time as clock
from collections import defaultdict, deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import PeerSpread, sequential_test
from services.fraud.scoring import claim_abuse as scoring
from services.fraud.scoring.base import default_config

cfg = default_config()
T, SEQ, S = cfg.thresholds, cfg.sequential, cfg.seller_sequential
LEVEL = math.log(1 / S.alpha)
RECENT = timedelta(days=cfg.seller_recent_days)
# An optional second reading of the record (the product's, when it has one).
decide = getattr(scoring, "seller_alert_reading", None)


def delivered_at(r):
    return next((s.at for s in r.scans if s.kind == "DELIVERED_TO_SELLER"), None)


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2 if xs else None


goal_days, goal_total, honest_alerted, honest_total = [], 0, [], 0
all_days = []
for seed in map(int, sys.argv[1:]):
    started = clock.time()
    w = build_world(seed, end=datetime(2026, 12, 5, 12, tzinfo=UTC))
    abusers = w.truth["claim_abuse"]["seller"]
    planted = set().union(*[ids for by in w.truth.values() for ids in by.values()])
    events = []
    for r in w.returns:
        at = delivered_at(r)
        if at is None:
            continue
        events.append((at, 0, r.seller, r.category))
        if r.claim is not None:
            events.append((r.claim.filed_at, 1, r.seller, r.category))
    events.sort()
    everyone = defaultdict(lambda: {"claims": 0, "delivered": 0})
    recent = defaultdict(deque)  # seller -> (at, category, is_claim) of the recent weeks
    first_alert = {}
    sellers = set()
    for at, is_claim, seller, cat in events:
        sellers.add(seller)
        own_key = f"{cat}|{seller}"
        everyone[own_key]["claims" if is_claim else "delivered"] += 1
        q = recent[seller]
        q.append((at, cat, is_claim))
        while q and q[0][0] < at - RECENT:
            q.popleft()
        if seller in first_alert:
            continue
        read = scoring.honest_sellers_of(
            everyone,
            cat,
            own_key,
            seller,
            T,
            SEQ,
            lambda bases, *out: scoring.whole_records_spread(
                everyone, bases, T, **({"leave_out": out[0]} if out else {})
            ),
        )
        honest = read.population
        if honest is None:
            continue
        mine = everyone[own_key]
        across = (
            claim_abuse.whole_record(
                {**read.cells, cat: (mine["claims"], mine["delivered"])}, read.rates
            )
            if read.rates
            else None
        )
        if across is not None:
            across = replace(across, concentration=read.whole_concentration or read.pooled)
            if [c for c, _ in across.categories] == [cat]:
                across = None
        if across is not None:
            k, n = across.claims, across.delivered
            spread = PeerSpread(across.rate, across.concentration or honest.concentration)
            rates = {c: r for c, r in across.categories}
        else:
            k, n, spread = mine["claims"], mine["delivered"], honest
            rates = {cat: 0.0}
        min_trials = claim_abuse.min_deliveries(spread.rate, cfg.seller_min_expected_claims)
        test = sequential_test(k, n, spread, S)
        alert = k >= S.min_events and n >= min_trials and test.log_bf >= LEVEL
        if decide is not None and not alert:
            alert = decide(k, n, spread, S, min_trials, cfg)
        if alert:
            rd = defaultdict(int)
            rk = 0
            for _, c, cl in q:
                if c in rates:
                    if cl:
                        rk += 1
                    else:
                        rd[c] += 1
            rate = scoring.recent_rate(dict(rd), rates, across.rate if across else 0.0, test.peer)
            spell = sequential_test(rk, sum(rd.values()), PeerSpread(rate, test.concentration), SEQ)
            if spell.log_bf <= 0:
                alert = False
        if alert:
            first_alert[seller] = at
    # The goal's abusers, as the earlier driver drew them: >= 2.5x their categories' honest
    # rates (the world's honest sellers, an oracle) and >= 15 claims by the world's end.
    cells = defaultdict(lambda: [0, 0])
    for key, c in everyone.items():
        cat, _, who = key.partition("|")
        if who not in planted:
            cells[cat][0] += c["claims"]
            cells[cat][1] += c["delivered"]
    oracle = {cat: k / n for cat, (k, n) in cells.items()}
    print(f"== world {seed} ({clock.time() - started:.0f} s)")
    for a in sorted(abusers):
        mine = {
            key.partition("|")[0]: c for key, c in everyone.items() if key.partition("|")[2] == a
        }
        K = sum(c["claims"] for c in mine.values())
        N = sum(c["delivered"] for c in mine.values())
        pbar = sum(c["delivered"] * oracle[cat] for cat, c in mine.items()) / max(N, 1)
        firsts = [
            r.claim.filed_at
            for r in w.returns
            if r.seller == a and r.claim is not None and "claim_abuse" in r.claim.patterns
        ]
        first = min(firsts) if firsts else None
        day = (
            (first_alert[a] - first).total_seconds() / 86400 if a in first_alert and first else None
        )
        goal = K / max(N, 1) / pbar >= 2.5 and K >= 15
        goal_total += goal
        if day is not None:
            all_days.append(day)
            if goal:
                goal_days.append(day)
        print(
            f"  {a}: {K}/{N} ({K / max(N, 1) / pbar:.1f}x){' goal' if goal else ''}; alerted "
            f"{'no' if day is None else f'{day:.1f} days after its first planted claim'}"
        )
    honest = [s for s in sellers if s not in planted]
    honest_total += len(honest)
    for s in sorted(honest):
        if s in first_alert:
            honest_alerted.append(s)
            print(f"  honest {s} ({w.lookalikes['seller'].get(s, '')}) alerted at {first_alert[s]}")
    print(
        f"  so far: goal {len(goal_days)}/{goal_total} median {median(goal_days)}; "
        f"honest {len(honest_alerted)}/{honest_total}",
        flush=True,
    )
md = median(goal_days)
print(
    f"goal abusers (>= 2.5x shown, >= 15 claims) alerted: {len(goal_days)}/{goal_total}, "
    f"median days {md and round(md, 1)}; every planted abuser alerted: {len(all_days)}, "
    f"median days {median(all_days) and round(median(all_days), 1)}; honest sellers ever alerted "
    f"{len(honest_alerted)}/{honest_total}"
)
