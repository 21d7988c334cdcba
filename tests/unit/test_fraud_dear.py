"""Which deliveries are dear for their category (`features.dear`): the bins above the one
holding the category's 90th percentile, learnt from its deliveries, in any category."""

from __future__ import annotations

import math
import random
from collections import Counter

from services.fraud.features.dear import (
    VALUE_METRICS,
    dear_from,
    is_dear,
    value_bin,
    value_metric,
)


def counts_of(values: list[int]) -> dict[str, int]:
    return dict(Counter(value_metric(v) for v in values))


def test_value_bins_are_eight_to_an_octave() -> None:
    assert value_bin(2 * 90_000) == value_bin(90_000) + 8
    assert value_bin(0) == 0 and value_bin(10**15) == len(VALUE_METRICS) - 1
    assert all(value_bin(v) <= value_bin(v + 1) for v in range(1, 5000))


def test_the_dear_end_of_any_category_is_at_most_its_tenth() -> None:
    rng = random.Random(7)
    # Category medians and spreads of the simulator's categories (rupees), each times 0.5-2.
    for median, sigma in ((9000, 0.8), (1200, 0.6), (2500, 0.7), (700, 0.5), (350, 0.5)):
        values = [round(median * 100 * math.exp(rng.gauss(0, sigma))) for _ in range(2000)]
        cut = dear_from(counts_of(values), share=0.1, min_deliveries=50)
        dear = sum(is_dear(v, cut) for v in values) / len(values)
        assert 0.05 <= dear <= 0.1, (median, dear)
    # A beauty seller's dear items are dear though far below ₹10,000.
    beauty = [round(700 * 100 * math.exp(rng.gauss(0, 0.5))) for _ in range(2000)]
    cut = dear_from(counts_of(beauty), share=0.1, min_deliveries=50)
    assert is_dear(300_000, cut) and not is_dear(70_000, cut)


def test_nothing_is_dear_before_the_category_has_enough_deliveries() -> None:
    values = [90_000 + 1000 * i for i in range(49)]
    assert dear_from(counts_of(values), share=0.1, min_deliveries=50) is None
    assert not is_dear(10**9, None)
    assert dear_from(counts_of([*values, 90_000]), share=0.1, min_deliveries=50) is not None


def test_a_run_of_identical_values_is_not_dear() -> None:
    # Every delivery at one price: no part of them is the category's dear end.
    cut = dear_from(counts_of([90_000] * 200), share=0.1, min_deliveries=50)
    assert not is_dear(90_000, cut)
    assert is_dear(2 * 90_000, cut)
