"""How often an honest seller's claim-rate evidence reaches the alert (a Bayes factor of 100),
per seller and weighted by claims: the share of honest claims whose seller is ever alerted,
which is what the alert's revisions and floor make HIGH. Count-only test (no signs), against
the category's true honest mean, read at the spread the product reads (a + b = 1,000, its cap)
and at the world's true spread; each dev world's honest sellers, sizes and categories as drawn.

    python claim_weighted.py REPS SEED...   (run from the code root)
"""

import math
import random
import sys

sys.path.insert(0, ".")
from disputedesk.simulate.generator import _Generator as Generator  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from services.fraud.detectors.claim_abuse import signs_log_bf  # noqa: E402
from services.fraud.detectors.stats import Sequential, _HonestPopulation  # noqa: E402

SIGNS = "--signs" in sys.argv
sys.argv = [x for x in sys.argv if x != "--signs"]

S = Sequential(alpha=1e-2)
ALERT = math.log(100)
reps = int(sys.argv[1])
for seed in [int(x) for x in sys.argv[2:]]:
    m = draw_market(seed, ranges=RANGE_SETS["dev"][1])
    g = Generator(m, seed, f"s{seed}")
    a, b = m.honest.claim_rate_beta
    mean = a / (a + b)
    factors = dict(m.honest.category_claim_factors)
    planted = set(g.claim_abusers) | set(getattr(g, "reusers", ()))
    sellers = [s for s in g.sellers if s.seller_id not in planted]
    total_size = sum(s.size for s in g.sellers)
    per_day = m.honest.returns_per_day
    rng = random.Random(f"cw/{seed}")
    # An honest claim's signs as the world draws them: MISSING_ITEM (weight intact, no
    # incident) at the claim mix's share; filed in the window's last 12 hours, 2 h + Exp(mean).
    p_missing = m.honest.claim_mix[3] / sum(m.honest.claim_mix)
    p_late = math.exp(-(156 - 2) / m.honest.claim_delay_mean_h)
    out = {}
    for label, conc in (("read at the cap 1000", 1000.0), (f"true a+b {a + b:.0f}", a + b)):
        ever = claims_all = claims_alerted = 0
        sellers_n = 0
        for _ in range(reps):
            for s in sellers:
                cat_mean = min(mean * factors.get(s.category.name, 1.0), 0.5)
                # The seller's own honest rate: the world's Beta, scaled to its category.
                p = min(rng.betavariate(a, b) * factors.get(s.category.name, 1.0), 0.95)
                lam = per_day * m.days * s.size / total_size * 0.85  # most returns are delivered
                n = sum(1 for _ in range(int(lam * 2)) if rng.random() < 0.5)
                pop = _HonestPopulation(cat_mean, conc, 0, 0, S)
                k = km = kl = 0
                alerted = False
                for i in range(1, n + 1):
                    if rng.random() < p:
                        k += 1
                        km += rng.random() < p_missing
                        kl += rng.random() < p_late
                        extra = (
                            signs_log_bf(km, k, p_missing, floor=0.05)
                            + signs_log_bf(kl, k, p_late, floor=0.05)
                            if SIGNS
                            else 0.0
                        )
                        if k >= S.min_events and pop.log_bf(k, i) + extra >= ALERT:
                            alerted = True
                sellers_n += 1
                ever += alerted
                claims_all += k
                claims_alerted += k if alerted else 0
        out[label] = (ever / sellers_n, claims_alerted / max(claims_all, 1))
    print(
        ("with signs; " if SIGNS else "") + f"world {seed}: {len(sellers)} honest sellers, a+b {a + b:.0f}, mean {mean:.3f}; "
        + "; ".join(
            f"{k}: sellers ever alerted {v[0]:.2%}, honest claims of alerted sellers {v[1]:.2%}"
            for k, v in out.items()
        ),
        flush=True,
    )
