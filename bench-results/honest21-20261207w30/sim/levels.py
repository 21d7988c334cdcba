"""The trade a seller's claims' HIGH level makes, simulated on each dev world's drawn market:
the share of honest claims whose seller's claim-rate evidence ever reaches the level (what the
alert's revisions and floor would make HIGH), against the share of a planted abuser's claims
whose seller reaches it (at 2.5x, 3x, 4x its category, at the world's planted volume). Count
test plus the MISSING_ITEM and late signs (as the product adds them), against the category's
true honest mean read at the spread's cap (1,000, as the product reads it), whole world.

    python levels.py REPS SEED...   (run from the code root)
"""

import math
import random
import sys

sys.path.insert(0, ".")
from disputedesk.simulate.generator import _Generator  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from services.fraud.detectors.claim_abuse import signs_log_bf  # noqa: E402
from services.fraud.detectors.stats import Sequential, _HonestPopulation  # noqa: E402

S = Sequential(alpha=1e-2)
LEVELS = (100, 300, 1000, 10000)
# "by volume": the level 100 times the seller's deliveries over an even share of the market's
# (at least 100): a seller holding three times an even share needs 300.
VOLUME = "--volume" in sys.argv
sys.argv = [x for x in sys.argv if x != "--volume"]
reps = int(sys.argv[1])


def path(rng, n, p, cat_mean, p_missing, p_late, conc, abuser_signs=0.0):
    """(claims, the highest log Bayes factor reached at >= min_events claims)."""
    pop = _HonestPopulation(cat_mean, conc, 0, 0, S)
    k = km = kl = 0
    top = -math.inf
    for i in range(1, n + 1):
        if rng.random() < p:
            k += 1
            signed = rng.random() < abuser_signs
            km += signed and rng.random() < 0.6 or (not signed and rng.random() < p_missing)
            kl += signed and rng.random() < 0.7 or (not signed and rng.random() < p_late)
            if k >= S.min_events:
                lbf = (
                    pop.log_bf(k, i)
                    + signs_log_bf(km, k, p_missing, floor=0.05)
                    + signs_log_bf(kl, k, p_late, floor=0.05)
                )
                top = max(top, lbf)
    return k, top


grand_h = {L: [0, 0] for L in LEVELS}
grand_a: dict = {}
for seed in [int(x) for x in sys.argv[2:]]:
    m = draw_market(seed, ranges=RANGE_SETS["dev"][1])
    g = _Generator(m, seed, f"s{seed}")
    a, b = m.honest.claim_rate_beta
    mean = a / (a + b)
    factors = dict(m.honest.category_claim_factors)
    planted = set(g.claim_abusers) | set(getattr(g, "reusers", ()))
    sellers = [s for s in g.sellers if s.seller_id not in planted]
    total = sum(s.size for s in g.sellers)
    days, per_day = m.days, m.honest.returns_per_day
    p_missing = m.honest.claim_mix[3] / sum(m.honest.claim_mix)
    p_late = math.exp(-(156 - 2) / m.honest.claim_delay_mean_h)
    red = m.fraud.abuser_red_flags
    rng = random.Random(f"levels/{seed}")
    honest = {L: [0, 0] for L in LEVELS}
    abusers = {(r, L): [0, 0] for r in (2.5, 3.0, 4.0) for L in LEVELS}
    cats = [s.category.name for s in sellers]

    even = per_day * days * 0.85 / len(g.sellers)

    def draws(lam):
        return sum(1 for _ in range(int(lam * 2)) if rng.random() < 0.5)

    for _ in range(reps):
        for s in sellers:
            f = factors.get(s.category.name, 1.0)
            p = min(rng.betavariate(a, b) * f, 0.95)
            n = draws(per_day * days * s.size / total * 0.85)
            k, top = path(rng, n, p, min(mean * f, 0.5), p_missing, p_late, 1000.0)
            scale = max(1.0, n / even) if VOLUME else 1.0
            for L in LEVELS:
                honest[L][0] += k if top >= math.log(L * scale) else 0
                honest[L][1] += k
        for r in (2.5, 3.0, 4.0):
            f = factors.get(rng.choice(cats), 1.0)
            n = draws(m.fraud.planted_seller_returns * 0.85)
            cm = min(mean * f, 0.5)
            k, top = path(rng, n, min(r * cm, 0.95), cm, p_missing, p_late, 1000.0, red)
            scale = max(1.0, n / even) if VOLUME else 1.0
            for L in LEVELS:
                abusers[(r, L)][0] += k if top >= math.log(L * scale) else 0
                abusers[(r, L)][1] += k
    for L in LEVELS:
        grand_h[L][0] += honest[L][0]
        grand_h[L][1] += honest[L][1]
        for r in (2.5, 3.0, 4.0):
            x = grand_a.setdefault((r, L), [0, 0])
            x[0] += abusers[(r, L)][0]
            x[1] += abusers[(r, L)][1]
    print(
        f"world {seed} (a+b {a + b:.0f}, {len(sellers)} honest sellers, planted volume "
        f"{m.fraud.planted_seller_returns}, red flags {red}): "
        + "; ".join(
            f"level {L}: honest claims {honest[L][0] / max(honest[L][1], 1):.2%}, abusers' claims "
            + "/".join(
                f"{abusers[(r, L)][0] / max(abusers[(r, L)][1], 1):.0%}" for r in (2.5, 3.0, 4.0)
            )
            for L in LEVELS
        ),
        flush=True,
    )
print(
    ("by volume; " if VOLUME else "") + "all: "
    + "; ".join(
        f"level {L}: honest claims {grand_h[L][0] / max(grand_h[L][1], 1):.2%}, abusers' claims "
        "at 2.5x/3x/4x "
        + "/".join(f"{grand_a[(r, L)][0] / max(grand_a[(r, L)][1], 1):.0%}" for r in (2.5, 3.0, 4.0))
        for L in LEVELS
    )
)
