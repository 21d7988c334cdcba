"""Exposure-scale variants tried offline (`peers_at.py` with VARIANT=name)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from services.fraud.detectors import pilferage
from services.fraud.detectors.pilferage import (
    PARTS,
    PRIOR_RATE,
    _medians_without,
    ordinary_hub_rate,
)
from services.fraud.detectors.stats import Thresholds, peer_rate, shrunk_rate


def told(hubs: Mapping[str, Mapping[str, int]], t: Thresholds) -> dict[str, float]:
    """A part's rate read from the other hubs only where their record there holds at least
    MIN_TOLD incidents; elsewhere the network's average (scale 1 for that part)."""
    least = int(os.environ.get("MIN_TOLD", "10"))
    split: dict[str, dict[str, tuple[int, int]]] = {}
    unsplit: dict[str, int] = {}
    for hub, row in hubs.items():
        by_part = {
            p: (max(row.get(f"incidents_{p}", 0), 0), max(row.get(f"handled_{p}", 0), 0))
            for p in PARTS
        }
        split[hub] = by_part
        unsplit[hub] = max(row.get("handled", 0) - sum(n for _, n in by_part.values()), 0)
    total_k = sum(max(row.get("incidents", 0), 0) for row in hubs.values())
    total_n = sum(max(row.get("handled", 0), 0) for row in hubs.values())
    pooled = peer_rate(total_k, total_n, PRIOR_RATE, t.prior_strength)
    part_n = {p: sum(by[p][1] for by in split.values()) for p in PARTS}
    part_k = {p: sum(by[p][0] for by in split.values()) for p in PARTS}
    split_n = sum(part_n.values())
    if split_n <= 0:
        return {hub: 1.0 for hub in hubs}

    def rate_of(median: float, n: int) -> float:
        return shrunk_rate(round(median * n), n, pooled, t.prior_strength)

    network = {
        p: rate_of(ordinary_hub_rate([by[p] for by in split.values()], pooled), n)
        for p, n in part_n.items()
        if n > 0
    }
    ref = sum(network[p] * n for p, n in part_n.items() if n > 0) / split_n
    without = {p: _medians_without({h: by[p] for h, by in split.items()}, pooled) for p in PARTS}
    out: dict[str, float] = {}
    for hub, by_part in split.items():
        n = sum(n_ for _, n_ in by_part.values()) + unsplit[hub]
        if n <= 0:
            out[hub] = 1.0
            continue
        expected = unsplit[hub] * ref
        for p, (k_, n_) in by_part.items():
            others = part_n[p] - n_
            others_k = part_k[p] - k_
            enough = (
                others * pooled >= least if os.environ.get("BY_EXPECTED") else others_k >= least
            )
            if others > 0 and enough:
                expected += n_ * rate_of(without[p][hub], others)
            else:
                expected += n_ * ref
        out[hub] = expected / (n * ref)
    return out


def product(hubs: Mapping[str, Mapping[str, int]], t: Thresholds) -> dict[str, float]:
    return pilferage.exposure_scales(hubs, t)


def shared_median(hubs: Mapping[str, Mapping[str, int]], t: Thresholds) -> dict[str, float]:
    """The product's (with PART_MIN_EXPECTED), but a part's ordinary rate is the median of all
    its hubs, the hub among them, unless the hub holds at least half of the part's parcels
    (then the others' median: a pilferer holding half a part does not set its own rate)."""
    split: dict[str, dict[str, tuple[int, int]]] = {}
    unsplit: dict[str, int] = {}
    for hub, row in hubs.items():
        by_part = {
            p: (max(row.get(f"incidents_{p}", 0), 0), max(row.get(f"handled_{p}", 0), 0))
            for p in PARTS
        }
        split[hub] = by_part
        unsplit[hub] = max(row.get("handled", 0) - sum(n for _, n in by_part.values()), 0)
    total_k = sum(max(row.get("incidents", 0), 0) for row in hubs.values())
    total_n = sum(max(row.get("handled", 0), 0) for row in hubs.values())
    pooled = peer_rate(total_k, total_n, PRIOR_RATE, t.prior_strength)
    part_n = {p: sum(by[p][1] for by in split.values()) for p in PARTS}
    split_n = sum(part_n.values())
    if split_n <= 0:
        return {hub: 1.0 for hub in hubs}

    def rate_of(median: float, n: int) -> float:
        return shrunk_rate(round(median * n), n, pooled, t.prior_strength)

    network = {
        p: rate_of(ordinary_hub_rate([by[p] for by in split.values()], pooled), n)
        for p, n in part_n.items()
        if n > 0
    }
    ref = sum(network[p] * n for p, n in part_n.items() if n > 0) / split_n
    without = {p: _medians_without({h: by[p] for h, by in split.items()}, pooled) for p in PARTS}
    out: dict[str, float] = {}
    for hub, by_part in split.items():
        n = sum(n_ for _, n_ in by_part.values()) + unsplit[hub]
        if n <= 0:
            out[hub] = 1.0
            continue
        expected = unsplit[hub] * ref
        for p, (_, n_) in by_part.items():
            others = part_n[p] - n_
            told = others > 0 and others * pooled >= pilferage.PART_MIN_EXPECTED
            if not told:
                expected += n_ * ref
            elif 2 * n_ >= part_n[p]:
                expected += n_ * rate_of(without[p][hub], others)
            else:
                expected += n_ * network[p]
        out[hub] = expected / (n * ref)
    return out
