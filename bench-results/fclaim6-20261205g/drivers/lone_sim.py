"""Honest sellers and claim abusers of a category with no honest peer, weighed against the
market's population of categories (`claim_abuse.market_population`) as the scoring does, the
guards on, every claim looked at, alert at 100. Categories' honest rates drawn log-uniform over
0.5-2x a 6 % mean (the dev ranges' category factor), sellers about each from a Beta of a + b 300.
usage: python lone_sim.py WORLDS"""
import math, random, statistics, sys
from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import Sequential, Thresholds, sequential_test

S, T = Sequential(alpha=0.01), Thresholds()
PRIOR = claim_abuse.RATES[0][4]
CATS = ["home", "fashion", "beauty", "electronics"]
rng = random.Random(2026)
def seller(rate):
    return rng.betavariate(rate * 300, (1 - rate) * 300)
def sellers(rate, m, d):
    out = []
    for _ in range(m):
        own, n = seller(rate), rng.randint(d // 2, d * 2)
        out.append((sum(rng.random() < own for _ in range(n)), n))
    return out
worlds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
honest = honest_alerted = 0
days = {2.5: [], 3.0: [], 4.0: []}
found = {2.5: 0, 3.0: 0, 4.0: 0}
concs = []
for _ in range(worlds):
    rates = {c: 0.06 * math.exp(rng.uniform(math.log(0.5), math.log(2))) for c in CATS}
    cats = {c: sellers(r, 12, 60) for c, r in rates.items()}
    bases, conc = claim_abuse.pooled_concentration(cats, T, prior_rate=PRIOR)
    market = claim_abuse.market_population(bases, cats, conc, T, S, prior_rate=PRIOR, leave_out="x")
    concs.append(market.concentration)
    guard = claim_abuse.min_deliveries(market.rate, 1.0)
    lone = 0.06 * math.exp(rng.uniform(math.log(0.5), math.log(2)))
    def first_alert(own, horizon=150):
        k = 0
        for n in range(1, horizon + 1):
            if rng.random() < own:
                k += 1
                if k >= S.min_events and n >= guard and sequential_test(k, n, market, S).log_bf >= math.log(1 / S.alpha):
                    return n
        return None
    for _ in range(10):
        honest += 1
        honest_alerted += first_alert(seller(lone)) is not None
    for r in days:
        for _ in range(3):
            n = first_alert(min(r * lone, 0.95))
            if n is not None:
                found[r] += 1; days[r].append(n)
print(f"worlds {worlds}; market a + b median {statistics.median(concs):.0f}")
print(f"honest sellers of a lone category ever alerted: {honest_alerted} of {honest} ({100*honest_alerted/honest:.2f} %)")
for r in days:
    print(f"abusers at {r}x their category: found within 150 deliveries {found[r]} of {3*worlds}, median deliveries to alert {statistics.median(days[r]) if days[r] else None}")
