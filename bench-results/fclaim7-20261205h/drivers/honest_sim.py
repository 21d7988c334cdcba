"""Honest-only markets, simulated: how many honest sellers ever reach the claim-rate alert when
a seller's record is weighed in all its categories together (`claim_abuse.whole_record`), and
how many did one category at a time (before), watched delivery by delivery.

Each market: 8 categories, 7 claiming 2-4 % and one honest category claiming 10-15 % (the case
where weighing a category against the market raised honest sellers); 160 sellers, each selling
in 1-7 categories with its own mix, 20-300 deliveries over the 120-day window, its own factor
shared by all its categories (Gamma, mean 1, a + b of the sellers' Beta as drawn: 100-1000), so
a seller a little above its peers is above them everywhere. The honest populations are the
product's: `pooled_concentration` and `honest_population` on every other seller's final
counts. Alert: the seller alert level (a factor of 100), five claims, 1 / rate deliveries.

usage: python honest_sim.py WORLDS [SEED] [cells|sellers|true]
(the concentration the tests use: the cells' pooled spread alone, the wider of it and the
sellers' whole records' (`whole_records_concentration`, the product), or the drawn one)
"""
import math, random, sys
from collections import defaultdict

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import PeerSpread, Sequential, Thresholds, sequential_test

T = Thresholds()
S = Sequential(alpha=1e-2)
LEVEL = math.log(1 / S.alpha)


def market(rng):
    rates = [rng.uniform(0.02, 0.04) for _ in range(7)] + [rng.uniform(0.10, 0.15)]
    names = [f"c{i}" for i in range(8)]
    conc = math.exp(rng.uniform(math.log(100), math.log(1000)))
    sellers = []
    for _ in range(160):
        k = rng.randint(1, 7)
        cats = rng.sample(names, k)
        weights = [rng.uniform(0.2, 2.5) for _ in cats]
        n = int(math.exp(rng.uniform(math.log(20), math.log(300))))
        shape = conc * 0.04
        factor = rng.gammavariate(shape, 1 / shape)
        seq = []
        for _ in range(n):
            c = rng.choices(cats, weights)[0]
            p = min(0.9, rates[names.index(c)] * factor)
            seq.append((c, rng.random() < p))
        sellers.append(seq)
    return dict(zip(names, rates)), sellers, conc


def run(worlds, seed):
    rng = random.Random(seed)
    ever_whole = ever_cell = total = 0
    high_cat_whole = high_cat_total = 0
    for w in range(worlds):
        rates, sellers, conc = market(rng)
        finals = []
        for seq in sellers:
            cell = defaultdict(lambda: [0, 0])
            for c, claimed in seq:
                cell[c][1] += 1
                cell[c][0] += claimed
            finals.append({c: tuple(v) for c, v in cell.items()})
        by_cat = defaultdict(list)
        for f in finals:
            for c, kn in f.items():
                by_cat[c].append(kn)
        bases, concentration = claim_abuse.pooled_concentration(by_cat, T, prior_rate=0.05)
        cells_conc = concentration
        if MODE == "sellers":
            concentration = min(concentration, claim_abuse.whole_records_concentration(
                finals, bases, T, prior_rate=0.05))
        elif MODE == "true":
            concentration = conc
        for i, seq in enumerate(sellers):
            pop = {}
            for c in finals[i]:
                others = list(by_cat[c]); others.remove(finals[i][c])
                if others:
                    pop[c] = claim_abuse.honest_population(
                        bases[c], others, concentration, T, S, prior_rate=0.05).rate
            cell = defaultdict(lambda: [0, 0])
            hit_whole = hit_cell = False
            for c, claimed in seq:
                cell[c][1] += 1
                cell[c][0] += claimed
                if c not in pop:
                    continue
                k, n = cell[c]
                if not hit_cell and k >= 5 and n >= 1 / pop[c]:
                    hit_cell = sequential_test(k, n, PeerSpread(pop[c], concentration), S).log_bf >= LEVEL
                rec = claim_abuse.whole_record({x: tuple(v) for x, v in cell.items()}, pop)
                if not hit_whole and rec.claims >= 5 and rec.delivered >= 1 / rec.rate:
                    hit_whole = sequential_test(rec.claims, rec.delivered, PeerSpread(rec.rate, concentration), S).log_bf >= LEVEL
            total += 1
            ever_whole += hit_whole
            ever_cell += hit_cell
            if "c7" in finals[i]:
                high_cat_total += 1
                high_cat_whole += hit_whole
        print(f"world {w}: a+b drawn {conc:.0f}, pooled cells {cells_conc:.0f}, used {concentration:.0f}, high category {rates['c7']:.3f}; "
              f"so far ever alerted whole {ever_whole}/{total}, one category {ever_cell}/{total}", flush=True)
    months = total * 4
    print(f"honest sellers ever alerted: whole record {ever_whole}/{total} ({ever_whole / total:.2%}, "
          f"{ever_whole / months:.3%} per seller-month), one category at a time {ever_cell}/{total} "
          f"({ever_cell / total:.2%}); sellers of the 10-15 % category {high_cat_whole}/{high_cat_total}")


MODE = "cells"
if __name__ == "__main__":
    MODE = sys.argv[3] if len(sys.argv) > 3 else "sellers"
    run(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
