"""Which deliveries are dear for their category: its dearest tenth, learnt from its deliveries.

fraud.md names "many high-value claims" among the signs of claim abuse. A fixed amount
(₹10,000) says nothing in a category of cheap goods (a beauty seller's dearest items seldom
reach it) and marks most of an electronics seller's goods. So "dear" is relative to the
category: a delivery is dear when its item's value lies above the value below which the
category's recent deliveries mostly fall (its `share` dearest, by default the tenth).

The category's values are counted in log-spaced bins (`value_metric`, eight to an octave: a
bin is 9 % wide) in the daily counters, like any other feature, so the cut is read with one
window query and needs no table of its own. A delivery is dear when its bin lies wholly above
the bin that holds the category's 90th percentile (`dear_from`): at most the dearest tenth,
about 8-10 % of a category's deliveries where values spread as goods' prices do, and never an
arbitrary part of a run of identical values. The label is fixed when the delivery is counted
(`ReturnFacts.dear`), so a claim on the item later is counted dear exactly when its delivery
was, and a seller's dear claims are always a subset of its dear deliveries.
"""

from __future__ import annotations

import math

# Eight bins to an octave of item value in paise; bin 0 holds values below 2^(1/8) paise, the
# last everything from 2^(255/8) paise (about ₹3.9 crore) up.
BINS_PER_OCTAVE = 8
BINS = 256
VALUE_METRICS = tuple(f"delivered_value_bin_{b}" for b in range(BINS))


def value_bin(value_paise: int) -> int:
    """The log-spaced bin of an item value."""
    if value_paise <= 1:
        return 0
    return min(BINS - 1, math.floor(BINS_PER_OCTAVE * math.log2(value_paise)))


def value_metric(value_paise: int) -> str:
    """The counter a delivery of this item value adds to in its category."""
    return VALUE_METRICS[value_bin(value_paise)]


def dear_from(counts: dict[str, int], *, share: float, min_deliveries: int) -> int | None:
    """The lowest bin whose deliveries are dear, from the category's counts per
    `VALUE_METRICS` bin: the bin above the one holding its (1 - `share`) quantile. None (no
    delivery is dear) while the category has had fewer than `min_deliveries` deliveries: its
    dearest tenth of a few dozen items is a guess."""
    per_bin = [counts.get(m, 0) for m in VALUE_METRICS]
    total = sum(per_bin)
    if total < max(min_deliveries, 1):
        return None
    above = 0
    for b in range(BINS - 1, -1, -1):
        above += per_bin[b]
        if above >= share * total:
            return b + 1
    return 0


def is_dear(value_paise: int | None, cut: int | None) -> bool:
    """Whether an item of this value is dear for a category whose dear bins start at `cut`."""
    return cut is not None and value_paise is not None and value_bin(value_paise) >= cut
