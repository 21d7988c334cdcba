"""The beyond range set (`fraud-eval --ranges beyond`) and the low-intensity sets (`dev-low`,
`held-out-low`, `wide-low`): they reach worlds the dev and wide ranges do not (thin volumes, few
or many sellers a category, skewed values, one claim type making most of the honest claims,
every claim abuser at the low end), and adding them left every earlier world as it was drawn."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from disputedesk.simulate.generator import generate
from disputedesk.simulate.ranges import (
    BEYOND_RANGES,
    BEYOND_SEEDS,
    DEV_SEEDS,
    HELD_OUT_SEEDS,
    RANGE_SETS,
    WIDE_RANGES,
    WIDE_SEEDS,
    WorldRanges,
    draw_market,
)

USUAL_MIX = (0.5, 0.2, 0.15, 0.15)


def test_beyond_worlds_reach_what_the_wide_ones_do_not() -> None:
    markets = [draw_market(seed, BEYOND_RANGES) for seed in BEYOND_SEEDS]
    assert not set(BEYOND_SEEDS) & set(DEV_SEEDS + HELD_OUT_SEEDS + WIDE_SEEDS)
    assert min(m.honest.returns_per_day for m in markets) < 20
    assert max(m.honest.returns_per_day for m in markets) <= 60
    # A handful of sellers a category, or more than a hundred.
    assert min(m.sellers for m in markets) < 40 and max(m.sellers for m in markets) > 400
    assert all(m.fraud.claim_abuse_intensity == (2.5, 3.0) for m in markets)
    assert max(m.categories[0].sigma for m in markets) > 1.4  # electronics' usual spread 0.8
    # One claim type makes most of the honest claims, a different one in different worlds.
    dominant = set()
    for m in markets:
        mix = m.honest.claim_mix
        shares = [w / sum(mix) for w in mix]
        top = max(range(4), key=lambda i: shares[i])
        assert shares[top] > 0.35
        dominant.add(top)
    assert dominant == {0, 1, 2, 3}
    assert RANGE_SETS["beyond"] == (BEYOND_SEEDS, BEYOND_RANGES)


@pytest.mark.parametrize(
    ("low", "base"),
    [("dev-low", WorldRanges()), ("held-out-low", WorldRanges()), ("wide-low", WIDE_RANGES)],
)
def test_low_sets_are_the_same_marketplaces_with_abusers_at_the_low_end(
    low: str, base: WorldRanges
) -> None:
    seeds, ranges = RANGE_SETS[low]
    assert ranges == replace(base, claim_abuse_intensity=(2.5, 2.5))
    for seed in seeds[:3]:
        at_low, as_drawn = draw_market(seed, ranges), draw_market(seed, base)
        assert at_low == replace(
            as_drawn, fraud=replace(as_drawn.fraud, claim_abuse_intensity=(2.5, 2.5))
        )
    world = generate(replace(draw_market(seeds[0], ranges), days=20), seeds[0])
    assert {v for (p, *_), v in world.truth.intensity.items() if p == "claim_abuse"} == {2.5}


# Digests of every generated action of two wide worlds, recorded on the code before the beyond
# and low sets existed (617ce79): the wide figures stay comparable only while the worlds do.
WIDE_AS_THEY_WERE = {5005: (9_376, "b86920a98fc959b8"), 5002: (14_056, "e98e8d42226d3641")}


@pytest.mark.parametrize("seed", sorted(WIDE_AS_THEY_WERE))
def test_wide_worlds_are_the_ones_they_were(seed: int) -> None:
    world = generate(draw_market(seed, WIDE_RANGES), seed)
    digest = hashlib.sha256()
    for action in world.actions:
        digest.update(repr(action).encode())
    assert (len(world.actions), digest.hexdigest()[:16]) == WIDE_AS_THEY_WERE[seed]
