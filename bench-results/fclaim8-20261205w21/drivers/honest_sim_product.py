"""Honest-only markets (as `fclaim7-20261205h/drivers/honest_sim.py` draws them: 8 categories,
7 claiming 2-4 % and one honest category claiming 10-15 %, 160 shops each selling in 1-7
categories with 20-300 deliveries and its own factor shared by its categories, a + b drawn
100-1000), each shop watched at every claim through fraud's own read of the honest sellers
(`scoring.claim_abuse.honest_sellers_of`, the whole records' spread as `ClaimInputs` reads it)
and the seller test with its guards (`ClaimInputs.seller_record`'s whole record, alert at the
seller level, five claims, 1 / rate deliveries); the other shops at their final counts.

usage: PYTHONPATH=<tree> python honest_sim_product.py MARKETS [SEED]
"""
import math, random, sys
from collections import defaultdict
from dataclasses import replace

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import PeerSpread, sequential_test
from services.fraud.scoring import claim_abuse as scoring
from services.fraud.scoring.base import default_config

cfg = default_config()
T, SEQ, S = cfg.thresholds, cfg.sequential, cfg.seller_sequential
LEVEL = math.log(1 / S.alpha)


def market(rng):
    rates = [rng.uniform(0.02, 0.04) for _ in range(7)] + [rng.uniform(0.10, 0.15)]
    names = [f"c{i}" for i in range(8)]
    conc = math.exp(rng.uniform(math.log(100), math.log(1000)))
    sellers = []
    for _ in range(160):
        cats = rng.sample(names, rng.randint(1, 7))
        weights = [rng.uniform(0.2, 2.5) for _ in cats]
        n = int(math.exp(rng.uniform(math.log(20), math.log(300))))
        shape = conc * 0.04
        factor = rng.gammavariate(shape, 1 / shape)
        seq = []
        for _ in range(n):
            c = rng.choices(cats, weights)[0]
            seq.append((c, rng.random() < min(0.9, rates[names.index(c)] * factor)))
        sellers.append(seq)
    return sellers, conc


def alerted(everyone, cat, who):
    own_key = f"{cat}|{who}"
    read = scoring.honest_sellers_of(
        everyone, cat, own_key, who, T, SEQ,
        lambda bases, *out: scoring.whole_records_spread(
            everyone, bases, T, **({"leave_out": out[0]} if out else {})),
    )
    if read.population is None:
        return False
    mine = everyone[own_key]
    across = (claim_abuse.whole_record({**read.cells, cat: (mine["claims"], mine["delivered"])},
                                       read.rates) if read.rates else None)
    if across is not None and [c for c, _ in across.categories] != [cat]:
        k, n = across.claims, across.delivered
        spread = PeerSpread(across.rate, read.whole_concentration or read.pooled)
    else:
        k, n, spread = mine["claims"], mine["delivered"], read.population
    guard = claim_abuse.min_deliveries(spread.rate, cfg.seller_min_expected_claims)
    return k >= S.min_events and n >= guard and sequential_test(k, n, spread, S).log_bf >= LEVEL


rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
ever = total = 0
first = int(sys.argv[3]) if len(sys.argv) > 3 else 0  # markets before it drawn, not watched
for m in range(int(sys.argv[1])):
    sellers, conc = market(rng)
    if m < first:
        continue
    finals = defaultdict(lambda: {"claims": 0, "delivered": 0})
    for i, seq in enumerate(sellers):
        for c, claimed in seq:
            finals[f"{c}|s{i}"]["delivered"] += 1
            finals[f"{c}|s{i}"]["claims"] += claimed
    for i, seq in enumerate(sellers):
        everyone = {k: v for k, v in finals.items() if not k.endswith(f"|s{i}")}
        hit = False
        for c, claimed in seq:
            cell = everyone.setdefault(f"{c}|s{i}", {"claims": 0, "delivered": 0})
            cell["delivered"] += 1
            cell["claims"] += claimed
            if claimed and alerted(everyone, c, f"s{i}"):
                hit = True
                break
        total += 1
        ever += hit
    print(f"market {m}: a+b drawn {conc:.0f}; so far ever alerted {ever}/{total}", flush=True)
print(f"honest shops ever alerted: {ever}/{total} ({ever / total:.2%}, {ever / (total * 4):.3%} per seller-month)")
