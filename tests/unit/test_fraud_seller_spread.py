"""The honest sellers' spread a seller's claim-rate test weighs it against, per category
(`claim_abuse.SellerSpread`, `claim_abuse.category_population`): the pooled spread is read from
sellers standardised to the market's rate, so it is a relative one, and a category claiming
above the market takes it at its own rate rather than the market's a + b. Pure logic."""

from __future__ import annotations

import math
import random

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import Sequential, Thresholds, sequential_test

T = Thresholds()
S = Sequential(alpha=1e-2)


def _relative_variance(rate: float, concentration: float) -> float:
    """cv^2 of a Beta with this mean and a + b."""
    return (1 - rate) / (rate * (concentration + 1))


def test_a_category_above_the_market_keeps_the_markets_relative_spread() -> None:
    market = claim_abuse.SellerSpread(reference=0.076, concentration=150.0)
    at_twice = market.at(0.152, T.max_concentration)
    # The same relative spread (about 32 % of the rate) at twice the rate: a + b about 68,
    # not the market's 150, which would hold its sellers to a relative spread of 22 %.
    assert math.isclose(
        _relative_variance(0.152, at_twice), _relative_variance(0.076, 150.0), rel_tol=1e-9
    )
    assert 60 <= at_twice <= 75


def test_a_category_below_the_market_keeps_the_markets_a_plus_b() -> None:
    # Below the reference the relative reading would make its sellers more alike than the
    # market's a + b says; the wider of the two stands.
    market = claim_abuse.SellerSpread(reference=0.076, concentration=150.0)
    assert market.at(0.038, T.max_concentration) == 150.0
    assert market.at(0.076, T.max_concentration) == 150.0


def test_the_spread_at_a_rate_stays_within_its_bounds() -> None:
    assert claim_abuse.SellerSpread(0.05, 1000.0).at(0.06, 100.0) == 100.0
    assert claim_abuse.SellerSpread(0.01, 3.0).at(0.5, 1000.0) == 2.0


def _market(rng: random.Random) -> dict[str, list[tuple[int, int]]]:
    """Four categories whose honest sellers' rates are one Beta (a + b = 150 around 7.6 %)
    scaled by the category's factor, as a marketplace whose categories differ by how often
    their goods are claimed: beauty at twice the market."""
    factors = {"electronics": 0.7, "fashion": 0.7, "home": 0.55, "beauty": 2.0}
    out: dict[str, list[tuple[int, int]]] = {c: [] for c in factors}
    for category, factor in factors.items():
        for _ in range(40):
            rate = factor * rng.betavariate(0.076 * 150, 0.924 * 150)
            n = rng.choice([20, 40, 80, 150, 300])
            out[category].append((sum(rng.random() < rate for _ in range(n)), n))
    return out


def test_a_category_claiming_twice_the_market_is_not_held_to_the_markets_a_plus_b() -> None:
    # Before 2026-12-05 every category took the market's a + b: beauty's honest sellers were
    # weighed against a spread a third as wide, relatively, as the one they were drawn from.
    for seed in range(3):
        categories = _market(random.Random(seed))
        _, market = claim_abuse.pooled_concentration(categories, T, prior_rate=0.05)
        beauty = claim_abuse.category_population(categories, "beauty", T, S, prior_rate=0.05)
        assert beauty.rate >= 1.6 * market.reference
        assert beauty.concentration <= 0.6 * market.concentration, (seed, market, beauty)
        assert math.isclose(
            _relative_variance(beauty.rate, beauty.concentration),
            _relative_variance(market.reference, market.concentration),
            rel_tol=0.35,
        )


def test_an_honest_seller_at_twice_its_high_claiming_category_is_weighed_less() -> None:
    # A seller at the far tail of beauty's honest sellers (2x its category, as one in a few
    # thousand of them runs at a + b = 68 around 15 %) with 60 deliveries: against the
    # market's a + b its claims are telling, against its category's own relative spread less.
    categories = _market(random.Random(0))
    bases, market = claim_abuse.pooled_concentration(categories, T, prior_rate=0.05)
    beauty = claim_abuse.category_population(categories, "beauty", T, S, prior_rate=0.05)
    held_to_market = claim_abuse.honest_population(
        bases["beauty"], categories["beauty"], market.concentration, T, S, prior_rate=0.05
    )
    k, n = round(2 * beauty.rate * 60), 60
    assert sequential_test(k, n, beauty, S).log_bf < sequential_test(k, n, held_to_market, S).log_bf
