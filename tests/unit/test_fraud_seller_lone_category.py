"""Claim abusers alone in a category have no honest peer to be weighed against: each is the
other's peer, and against each other none stands out. The category's sellers are then read
against the market's population of categories (`claim_abuse.market_population`): an honest
category's rate drawn from the market's, a seller's about it. These tests fail before that
population existed (the functions did not)."""

from __future__ import annotations

import math
import random

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    Thresholds,
    robust_baseline,
    sequential_test,
)

S = Sequential(alpha=0.01)
T = Thresholds()
PRIOR = claim_abuse.RATES[0][4]


def _sellers(
    rng: random.Random, rate: float, sellers: int, deliveries: int
) -> list[tuple[int, int]]:
    out = []
    for _ in range(sellers):
        own = rng.betavariate(rate * 300, (1 - rate) * 300)
        n = rng.randint(deliveries // 2, deliveries * 2)
        out.append((sum(rng.random() < own for _ in range(n)), n))
    return out


def _market(
    rng: random.Random, rates: dict[str, float], sellers: int = 15, deliveries: int = 60
) -> dict[str, list[tuple[int, int]]]:
    return {c: _sellers(rng, r, sellers, deliveries) for c, r in rates.items()}


RATES = {"home": 0.04, "fashion": 0.08, "beauty": 0.06, "electronics": 0.1}


def _population(
    categories: dict[str, list[tuple[int, int]]], category: str
) -> tuple[PeerSpread, PeerSpread | None, bool]:
    bases, concentration = claim_abuse.pooled_concentration(categories, T, prior_rate=PRIOR)
    own = claim_abuse.honest_population(
        bases[category], categories[category], concentration, T, S, prior_rate=PRIOR
    )
    market = claim_abuse.market_population(
        bases, categories, concentration, T, S, prior_rate=PRIOR, leave_out=category
    )
    lone = market is not None and claim_abuse.without_honest_peers(
        bases[category], categories[category], market, T, S
    )
    return own, market, lone


def test_the_market_population_is_the_categories_mean_and_wider_than_one_category() -> None:
    rng = random.Random(7)
    categories = _market(rng, RATES)
    categories["collectibles"] = [(20, 70), (18, 60)]
    _, market, _ = _population(categories, "collectibles")
    assert market is not None
    # The mean of the four honest categories' rates (each one draw), not the abusers'.
    assert 0.05 < market.rate < 0.09
    # Categories differ (4-10 %): the population is wider than the spread within one.
    _, concentration = claim_abuse.pooled_concentration(categories, T, prior_rate=PRIOR)
    assert market.concentration < concentration
    assert market.concentration < 150


def test_too_few_categories_say_nothing_of_how_categories_differ() -> None:
    rng = random.Random(8)
    categories = _market(rng, {"home": 0.04, "fashion": 0.08})
    categories["collectibles"] = [(20, 70)]
    _, market, _ = _population(categories, "collectibles")
    assert market is None


def test_abusers_alone_in_a_category_are_weighed_against_the_market_and_found() -> None:
    rng = random.Random(9)
    categories = _market(rng, RATES)
    # Two abusers at about 4x a 6 % category, alone in theirs: the scored one's only peer is
    # the other.
    categories["collectibles"] = [(16, 65)]
    own, market, lone = _population(categories, "collectibles")
    assert lone and market is not None
    # Against its fellow abuser the scored seller (25 claims in 100) is ordinary; against the
    # market it crosses the seller alert's level.
    assert sequential_test(25, 100, own, S).log_bf < 0
    assert sequential_test(25, 100, market, S).log_bf >= math.log(1 / S.alpha)


def test_a_category_with_honest_sellers_keeps_its_own_rate() -> None:
    rng = random.Random(10)
    categories = _market(rng, RATES)
    for category in RATES:
        _, market, lone = _population(categories, category)
        assert market is not None and not lone
    # Honest sellers of a category at twice the market's rate have each other: their category
    # stands above the market, but its ordinary sellers are ordinary against it.
    categories["collectibles"] = _sellers(rng, 0.14, 6, 60)
    _, _, lone = _population(categories, "collectibles")
    assert not lone


def test_a_young_category_of_one_seller_has_no_honest_rate_of_its_own() -> None:
    rng = random.Random(11)
    categories = _market(rng, RATES)
    categories["collectibles"] = [(0, 8)]
    _, market, lone = _population(categories, "collectibles")
    # Eight deliveries at the market's rate expect about half a claim.
    assert lone and market is not None


def test_honest_sellers_of_a_lone_category_rarely_alert_against_the_market() -> None:
    # Honest sellers whose category's rate is drawn as the market's categories are (log-uniform
    # over 0.5-2x the mean), weighed against the market's population read from four other
    # categories, every claim looked at, with the scoring's guards: at most about the stated
    # 1 % ever reach the seller alert's level.
    rng = random.Random(12)
    alerted = trials = 0
    for _ in range(60):
        rates = {c: 0.06 * math.exp(rng.uniform(math.log(0.5), math.log(2))) for c in RATES}
        categories = _market(rng, rates, sellers=10, deliveries=50)
        bases, concentration = claim_abuse.pooled_concentration(categories, T, prior_rate=PRIOR)
        market = claim_abuse.market_population(
            bases, categories, concentration, T, S, prior_rate=PRIOR, leave_out="collectibles"
        )
        assert market is not None
        guard = claim_abuse.min_deliveries(market.rate, 1.0)
        lone_rate = 0.06 * math.exp(rng.uniform(math.log(0.5), math.log(2)))
        for _ in range(5):
            own = rng.betavariate(lone_rate * 300, (1 - lone_rate) * 300)
            trials += 1
            k = 0
            for n in range(1, 121):
                if rng.random() < own:
                    k += 1
                    if (
                        k >= S.min_events
                        and n >= guard
                        and sequential_test(k, n, market, S).log_bf >= math.log(1 / S.alpha)
                    ):
                        alerted += 1
                        break
    assert alerted <= 0.015 * trials, (alerted, trials)


def test_robust_baseline_of_abusers_alone_keeps_them() -> None:
    # Why the category's own test cannot find them: its robust baseline keeps the fellow
    # abusers, whose rate is the scored seller's.
    base = robust_baseline([(16, 65)], T, prior_rate=PRIOR)
    assert base.keeps(16, 65, T)
