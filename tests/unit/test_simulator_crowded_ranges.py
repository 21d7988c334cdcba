"""The crowded range sets (`fraud-eval --ranges dev-crowded`, `dev-alone`): many claim abusers
selling in one category beside its honest sellers, and abusers in a category of their own; and
adding them left every earlier world as it was drawn."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace

import pytest

from disputedesk.simulate.generator import generate
from disputedesk.simulate.marketplace import ALONE_CATEGORY
from disputedesk.simulate.ranges import (
    BEYOND_RANGES,
    DEV_SEEDS,
    RANGE_SETS,
    WorldRanges,
    draw_market,
)


def abusers_by_category(seed: int, ranges: WorldRanges) -> tuple[Counter[str], set[str]]:
    """Each category's claim abusers in a short world of `seed`, and the categories honest
    sellers sell in."""
    world = generate(replace(draw_market(seed, ranges), days=14), seed)
    abusers = {eid for _, eid in world.truth.entities["claim_abuse"]}
    category: dict[str, str] = {}
    for action in world.actions:
        if action.kind == "return":
            category[action.body["seller_id"]] = action.body["category"]
    honest = {c for s, c in category.items() if s not in abusers}
    return Counter(category[s] for s in abusers if s in category), honest


@pytest.mark.parametrize("seed", DEV_SEEDS[:3])
def test_crowded_worlds_put_four_to_six_abusers_in_one_category(seed: int) -> None:
    seeds, ranges = RANGE_SETS["dev-crowded"]
    assert seeds == DEV_SEEDS
    market = draw_market(seed, ranges)
    assert 6 <= market.fraud.claim_abusers <= 9
    assert 4 <= market.fraud.crowded_abusers <= 6
    counts, honest = abusers_by_category(seed, ranges)
    top, most = counts.most_common(1)[0]
    assert most >= market.fraud.crowded_abusers
    assert top in honest  # beside honest sellers of its category


@pytest.mark.parametrize("seed", DEV_SEEDS[:3])
def test_alone_worlds_have_abusers_in_a_category_no_honest_seller_sells_in(seed: int) -> None:
    _, ranges = RANGE_SETS["dev-alone"]
    market = draw_market(seed, ranges)
    assert 2 <= market.fraud.abusers_alone <= 3
    counts, honest = abusers_by_category(seed, ranges)
    assert counts[ALONE_CATEGORY] == market.fraud.abusers_alone
    assert ALONE_CATEGORY not in honest


def test_the_crowded_sets_are_the_dev_marketplaces_with_their_abusers_moved() -> None:
    for name in ("dev-crowded", "dev-alone"):
        _, ranges = RANGE_SETS[name]
        for seed in DEV_SEEDS[:3]:
            crowded, dev = draw_market(seed, ranges), draw_market(seed, WorldRanges())
            assert crowded.honest == dev.honest
            assert crowded.partners == dev.partners
            assert crowded.sellers == dev.sellers and crowded.days == dev.days


# Digests of every generated action, recorded on the code before the crowded sets existed
# (85dade1): the earlier sets' figures stay comparable only while their worlds do.
AS_THEY_WERE = {
    ("dev", 101): (14_556, "79e8d19e903b94f8"),
    ("held-out", 9001): (14_652, "e3e033ef4034a109"),
    ("beyond", 7004): (6_779, "07b7a5aabaa384db"),
}


@pytest.mark.parametrize(("name", "seed"), sorted(AS_THEY_WERE))
def test_earlier_worlds_are_the_ones_they_were(name: str, seed: int) -> None:
    world = generate(draw_market(seed, RANGE_SETS[name][1]), seed)
    digest = hashlib.sha256()
    for action in world.actions:
        digest.update(repr(action).encode())
    assert (len(world.actions), digest.hexdigest()[:16]) == AS_THEY_WERE[(name, seed)]
    assert RANGE_SETS["beyond"][1] == BEYOND_RANGES
