"""A claim's statistics over its sellers' distinct counts (`stats.distinct_counts`,
`claim_abuse.pooled_concentration`, `claim_abuse.honest_population`) give the numbers of the
long way, peer by peer; a population read for one event estimates only the spreads its
caller reads (`peer_baselines(spread_of=...)`). Pure logic."""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import (
    PeerSpread,
    RobustBaseline,
    Sequential,
    Thresholds,
    distinct_counts,
    peer_rate,
    robust_baseline,
    sequential_test,
)
from services.fraud.scoring.baselines import BaselinePolicy, peer_baselines

T = Thresholds()
S = Sequential()


def drawn_categories(rng: random.Random) -> dict[str, list[tuple[int, int]]]:
    """Categories of sellers as a claim reads them: most with a few deliveries, a few busy,
    some claiming at two to four times the others' rate, some with no delivery yet."""
    out = {}
    for c in range(rng.randrange(1, 4)):
        peers = []
        for _ in range(rng.choice([1, 5, 40, 300])):
            n = rng.choice([0, 1, 1, 2, 3, 5, 8, 30])
            rate = rng.choice([0.05, 0.05, 0.05, 0.15, 0.2])
            peers.append((sum(rng.random() < rate for _ in range(n)), n))
        out[f"C{c}"] = peers
    return out


def pooled_peer_by_peer(
    categories: Mapping[str, Sequence[tuple[int, int]]], prior_rate: float
) -> tuple[dict[str, RobustBaseline], float]:
    """`pooled_concentration` as it was written first: every seller one by one."""
    bases = {c: robust_baseline(list(p), T, prior_rate=prior_rate) for c, p in categories.items()}
    total_k = sum(max(k, 0) for p in categories.values() for k, _ in p)
    total_n = sum(max(n, 0) for p in categories.values() for _, n in p)
    reference = peer_rate(total_k, total_n, prior_rate, T.prior_strength)
    standardised = []
    for c, p in categories.items():
        spread = bases[c].spread
        rate = spread.rate if spread is not None else reference
        standardised += [(k, max(round(n * rate / reference), k)) for k, n in p if n > 0 or k > 0]
    market = robust_baseline(standardised, T, prior_rate=prior_rate).spread
    return bases, market.concentration if market is not None else T.max_concentration


def honest_peer_by_peer(
    baseline: RobustBaseline, peers: Sequence[tuple[int, int]], concentration: float
) -> PeerSpread:
    """`honest_population` as it was written first: every seller one by one."""
    kept = [(k, n) for k, n in peers if n > 0 and baseline.keeps(k, n, T)]

    def rate_of(group: Sequence[tuple[int, int]]) -> float:
        return peer_rate(sum(k for k, _ in group), sum(n for _, n in group), 0.05, T.prior_strength)

    rate = rate_of(kept)
    for _ in range(5):
        ordinary = [
            (k, n)
            for k, n in kept
            if k == 0
            or sequential_test(k, n, PeerSpread(rate, concentration), S).log_bf
            < math.log(1 / S.alpha_medium)
        ]
        if len(ordinary) == len(kept):
            break
        kept, rate = ordinary, rate_of(ordinary)
    return PeerSpread(rate, concentration)


def test_distinct_counts_are_the_clamped_peers_counted_in_their_order() -> None:
    rng = random.Random(3)
    for _ in range(200):
        peers = [(rng.randrange(-1, 4), rng.randrange(-1, 6)) for _ in range(rng.randrange(40))]
        expected = Counter((max(k, 0), max(n, k, 0)) for k, n in peers if n > 0 or k > 0)
        got = distinct_counts(peers)
        assert list(got.items()) == list(expected.items())


def test_a_claims_seller_statistics_over_distinct_counts_are_the_peer_by_peer_numbers() -> None:
    rng = random.Random(5)
    for _ in range(60):
        categories = drawn_categories(rng)
        bases, concentration = claim_abuse.pooled_concentration(categories, T, prior_rate=0.05)
        expected_bases, expected_concentration = pooled_peer_by_peer(categories, 0.05)
        assert repr(bases) == repr(expected_bases)
        assert concentration == expected_concentration
        for category, peers in categories.items():
            assert claim_abuse.honest_population(
                bases[category], peers, concentration, T, S, prior_rate=0.05
            ) == honest_peer_by_peer(bases[category], peers, concentration)


def test_a_baseline_without_its_spread_keeps_the_same_peers() -> None:
    rng = random.Random(8)
    for _ in range(50):
        peers = drawn_categories(rng)["C0"]
        full = robust_baseline(peers, T, prior_rate=0.05)
        bare = robust_baseline(peers, T, prior_rate=0.05, spread=False)
        assert (bare.k, bare.n, bare.null, bare.spread) == (full.k, full.n, full.null, None)


RATES = [("claims", "delivered", 0.05), ("claims_late", "claims", 0.05)]


def baselines(population: Mapping[str, Mapping[str, int]], **kwargs: Any) -> dict[str, Any]:
    """`peer_baselines` of a small population (read for this event), with the spreads it
    reported."""
    session: Any = SimpleNamespace(bind=None)  # no engine: nothing kept between events
    spreads: dict[str, PeerSpread] = {}

    async def load() -> Mapping[str, Mapping[str, int]]:
        return population

    counts = asyncio.run(
        peer_baselines(
            session,
            population=("category_seller", "C|", "long"),
            rates=RATES,
            own_id="C|S0",
            own=population["C|S0"],
            at=datetime(2026, 6, 1, tzinfo=UTC),
            t=T,
            policy=BaselinePolicy(1000, timedelta(hours=1)),
            load=load,
            spreads=spreads,
            **kwargs,
        )
    )
    return {"counts": counts, "spreads": spreads}


def test_a_population_read_for_one_event_estimates_only_the_spreads_asked_for() -> None:
    rng = random.Random(13)
    population = {
        f"C|S{i}": {"claims": (c := rng.randrange(3)), "delivered": 10, "claims_late": c // 2}
        for i in range(60)
    }
    every = baselines(population)
    assert set(every["spreads"]) == {"claims", "claims_late"}
    claims_only = baselines(population, spread_of=("claims",))
    assert claims_only["spreads"] == {"claims": every["spreads"]["claims"]}
    assert claims_only["counts"] == every["counts"]
    none = baselines(population, spread_of=())
    assert none == {"counts": every["counts"], "spreads": {}}
