"""The shortcuts the robust peer baselines take give the numbers of the long way: a binomial
tail compared with a level without summing all of it, and a sequential test's log Bayes factor
without its record."""

from __future__ import annotations

import random

from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    sequential_log_bf,
    sequential_test,
)
from shared.stats import binomial_sf, binomial_sf_above


def test_a_tail_above_a_level_is_answered_as_the_whole_tail_answers() -> None:
    rng = random.Random(7)
    checked = above = 0
    for _ in range(20_000):
        n = rng.choice([rng.randrange(1, 20), rng.randrange(1, 400), rng.randrange(1, 3000)])
        k = rng.randrange(0, n + 2)
        p = rng.choice([rng.random() * 0.2, rng.random(), 0.0, 1.0])
        level = rng.choice([1e-4, 0.01, 0.05, 0.5, 1.0, 2.0])
        whole = binomial_sf(k, n, p) > level
        assert binomial_sf_above(k, n, p, level) is whole, (k, n, p, level)
        checked, above = checked + 1, above + whole
    # Both answers were asked often.
    assert 0.2 * checked < above < 0.8 * checked


def test_a_tail_just_above_a_level_is_above_it() -> None:
    # The tail of 3 or more of 100 at 1 % is 0.0794: a level just under it, and just over.
    sf = binomial_sf(3, 100, 0.01)
    assert binomial_sf_above(3, 100, 0.01, sf - 1e-12)
    assert not binomial_sf_above(3, 100, 0.01, sf)


def test_the_log_bayes_factor_alone_is_the_tests() -> None:
    rng = random.Random(11)
    for s in (Sequential(), Sequential(alpha=1e-2, stronger=((5.0, 0.4),))):
        for _ in range(5_000):
            k, n = rng.randrange(0, 40), rng.randrange(0, 600)
            spread = PeerSpread(rng.random() * 0.3, rng.choice([2.0, 80.0, 1000.0]))
            assert sequential_log_bf(k, n, spread, s) == sequential_test(k, n, spread, s).log_bf
