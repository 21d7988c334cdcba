"""The shared statistics: exact tails, shrinkage, the p-value → score map, perceptual hashes."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from services.fraud.detectors.evidence_reuse import chance_match_rate
from services.fraud.detectors.findings import band_of, combine
from services.fraud.detectors.stats import (
    Thresholds,
    binomial_sf,
    contribution_from_p,
    fisher_combined,
    hamming64,
    information_rate,
    peer_rate,
    phash_chunks,
    poisson_sf,
    rate_test,
    robust_baseline,
    robust_peer_counts,
    sequential_test,
    shrunk_rate,
    tolerance_null,
)
from shared.events import FraudBand


def test_binomial_tail_matches_the_exact_sum() -> None:
    n, p = 12, 0.3
    for k in range(n + 2):
        exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
        assert binomial_sf(k, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-15)
    assert binomial_sf(0, 5, 0.1) == 1.0
    assert binomial_sf(6, 5, 0.1) == 0.0


def test_binomial_tail_is_accurate_far_in_the_tail_for_large_n() -> None:
    # 100 of 1000 at p = 0.02: the log-space sum must not underflow to zero.
    value = binomial_sf(100, 1000, 0.02)
    assert 0 < value < 1e-30


def test_poisson_tail() -> None:
    mu = 2.5
    exact = 1 - sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(4))
    assert poisson_sf(4, mu) == pytest.approx(exact, rel=1e-9)


def test_shrinkage_pulls_small_samples_to_the_peer_rate() -> None:
    assert shrunk_rate(1, 1, 0.05, 20) == pytest.approx((1 + 20 * 0.05) / 21)
    assert shrunk_rate(1, 1, 0.05, 20) < 0.1  # one claim out of one is no evidence yet
    assert shrunk_rate(500, 1000, 0.05, 20) == pytest.approx(0.491, abs=0.001)


def test_tolerance_null_allows_honest_spread() -> None:
    assert tolerance_null(0.04, ratio=2.0, min_excess=0.02) == pytest.approx(0.08)
    assert tolerance_null(0.005, ratio=2.0, min_excess=0.02) == pytest.approx(0.025)


def test_a_single_finding_is_high_exactly_at_alpha_high() -> None:
    t = Thresholds(alpha_high=1e-4, alpha_medium=1e-2)
    assert band_of(contribution_from_p(1e-4, t)) is FraudBand.HIGH
    assert band_of(contribution_from_p(1.1e-4, t)) is FraudBand.MEDIUM
    assert band_of(contribution_from_p(1e-2, t)) is FraudBand.MEDIUM
    assert band_of(contribution_from_p(1.1e-2, t)) is FraudBand.LOW
    assert contribution_from_p(0.5, t) == 0.0


def test_noisy_or_and_bands() -> None:
    assert combine([]) == 0.0
    assert combine([0.5, 0.5]) == pytest.approx(0.75)
    assert band_of(0.49) is FraudBand.LOW
    assert band_of(0.5) is FraudBand.MEDIUM
    assert band_of(0.8) is FraudBand.HIGH


def test_rate_test_excludes_nothing_it_is_not_told_to() -> None:
    t = Thresholds()
    r = rate_test(30, 60, 400, 10_000, t, prior_rate=0.05)
    assert r.peer == pytest.approx((400 + 20 * 0.05) / (10_000 + 20))
    assert r.p < 1e-10
    assert "vs peer" in r.detail() and r.numbers()["count"] == 30


def test_perceptual_hash_helpers() -> None:
    a = int("ffff0000ffff0000", 16)
    assert hamming64(a, a ^ 0b1011) == 3
    # Pigeonhole: within 7 bits, at least one of the eight bytes is identical.
    b = a ^ (1 << 0) ^ (1 << 9) ^ (1 << 18) ^ (1 << 27) ^ (1 << 36) ^ (1 << 45) ^ (1 << 54)
    assert any(x == y for x, y in zip(phash_chunks(a), phash_chunks(b), strict=True))
    assert chance_match_rate(6) < 1e-11


def test_robust_peer_baseline_leaves_a_planted_outlier_out() -> None:
    t = Thresholds()
    honest = [(4, 200), (5, 210), (3, 190), (4, 205), (6, 220)]
    pilfering = (45, 200)
    k, n = robust_peer_counts([*honest, pilfering], t, prior_rate=0.03)
    assert (k, n) == (sum(k for k, _ in honest), sum(n for _, n in honest))
    # The pooled rate would have been more than twice the honest one.
    assert (k + 45) / (n + 200) > 2 * k / n


def test_robust_peer_baseline_keeps_honest_spread() -> None:
    t = Thresholds()
    peers = [(0, 30), (1, 35), (2, 28), (0, 40), (3, 33), (1, 31)]
    assert robust_peer_counts(peers, t, prior_rate=0.03) == (7, 197)
    assert robust_peer_counts([], t, prior_rate=0.03) == (0, 0)


def test_fisher_combination_of_weak_findings_is_not_a_certainty() -> None:
    # Two findings at p=0.003 and p=0.05 (an honest seller named by fraudulent buyers): a score
    # noisy-OR would call that HIGH; together they are p ~ 1.5e-3, far from alpha_high.
    combined = fisher_combined([0.003, 0.05])
    assert 1e-3 < combined < 2e-3
    assert fisher_combined([1e-3, 1e-3, 1e-3]) < 1e-4  # consistent weak evidence does add up
    assert fisher_combined([0.5]) == pytest.approx(0.5)
    assert fisher_combined([]) == 1.0


def test_robust_peer_baseline_holds_when_abusers_are_a_large_minority() -> None:
    t = Thresholds()
    honest = [(8, 200), (7, 190), (9, 210), (8, 200), (10, 220), (6, 180)]
    abusers = [(30, 100)] * 6
    k, n = robust_peer_counts([*honest, *abusers], t, prior_rate=0.05)
    # Pooled, the abusers lift the baseline to about 13 %, and against twice that none of
    # them stands out: the baseline must start from the cleaner half.
    assert (k, n) == (sum(k for k, _ in honest), sum(n for _, n in honest))


@pytest.mark.parametrize(("n", "p"), [(1, 0.5), (40, 0.02), (300, 0.07), (200, 0.3), (57, 0.9)])
def test_binomial_tail_is_exact_on_both_sides_of_the_mean(n: int, p: float) -> None:
    # Below the mean the lower tail is summed instead; both must agree with the exact sum.
    ks = {0, 1, 2, int(n * p) - 1, int(n * p), int(n * p) + 1, int(n * p) + 3, n}
    for k in sorted(k for k in ks if 0 <= k <= n):
        q = Fraction(p)
        exact = float(sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(k, n + 1)))
        assert binomial_sf(k, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-15), (k, n, p)


def _robust_one_by_one(
    peers: list[tuple[int, int]], t: Thresholds, prior_rate: float
) -> tuple[int, int, float]:
    """The robust baseline computed peer by peer, as the rule reads: the reference."""
    from services.fraud.detectors.stats import peer_rate

    live = [(max(k, 0), max(n, k, 0)) for k, n in peers if n > 0 or k > 0]
    total_n = sum(n for _, n in live)
    centre = peer_rate(sum(k for k, _ in live), total_n, prior_rate, t.prior_strength)
    kept_k = kept_n = 0
    for k, n in sorted(live, key=lambda c: shrunk_rate(c[0], c[1], centre, t.prior_strength)):
        if kept_n >= total_n / 2:
            break
        kept_k, kept_n = kept_k + k, kept_n + n
    kept: list[tuple[int, int]] = []
    null = t.min_excess
    for _ in range(5):
        rate = peer_rate(kept_k, kept_n, prior_rate, t.prior_strength)
        null = tolerance_null(rate, ratio=t.tolerance_ratio, min_excess=t.min_excess)
        survivors = [(k, n) for k, n in live if k == 0 or binomial_sf(k, n, null) > t.alpha_medium]
        if survivors == kept:
            break
        kept = survivors
        kept_k, kept_n = sum(k for k, _ in kept), sum(n for _, n in kept)
    return kept_k, kept_n, null


@pytest.mark.parametrize("seed", range(40))
def test_robust_baseline_over_grouped_counts_equals_peer_by_peer(seed: int) -> None:
    # Many peers share counts (most buyers have one or two deliveries and no claim); the
    # baseline works over the distinct counts, and must keep exactly what the rule keeps.
    import random

    rng = random.Random(seed)
    t = Thresholds()
    peers = [(rng.choice((0, 0, 0, 1, 2)), rng.randint(0, 6)) for _ in range(rng.randint(1, 400))]
    peers += [(rng.randint(5, 30), rng.randint(10, 60)) for _ in range(rng.randint(0, 8))]
    rng.shuffle(peers)
    b = robust_baseline(peers, t, prior_rate=0.03)
    assert (b.k, b.n, b.null) == _robust_one_by_one(peers, t, 0.03)


def _hub_population(
    rng: random.Random, *, mean: float, concentration: float, busy_factor: float = 1.0
) -> list[tuple[int, int]]:
    """Ten hubs whose honest rates are drawn from a Beta, their parcels 180-1,200 (a few busy
    ones); the two busiest run at `busy_factor` times their honest rate (pilfering agents not
    yet found)."""
    trials = sorted(int(150 * rng.lognormvariate(0.5, 0.6)) + 30 for _ in range(10))
    out = []
    for i, n in enumerate(trials):
        p = rng.betavariate(mean * concentration, (1 - mean) * concentration)
        p *= busy_factor if i >= 8 else 1.0
        out.append((sum(rng.random() < p for _ in range(n)), n))
    return out


def _mean_rates(busy_factor: float) -> tuple[float, float]:
    """The pooled and the information-weighted honest rate of hubs, averaged over 150 draws
    (honest mean 2.5 %, concentration 500)."""
    t = Thresholds()
    rng = random.Random(11)
    pooled = informed = 0.0
    for _ in range(150):
        hubs = _hub_population(rng, mean=0.025, concentration=500, busy_factor=busy_factor)
        for by_information in (False, True):
            spread = robust_baseline(
                hubs, t, prior_rate=0.03, leave_out=True, by_information=by_information
            ).spread
            assert spread is not None
            if by_information:
                informed += spread.rate / 150
            else:
                pooled += spread.rate / 150
    return pooled, informed


def test_information_weighted_rate_does_not_read_honest_peers_lower() -> None:
    # Honest hubs only: weighed by information the rate is no lower than pooled (a lower one
    # would make honest hubs look like pilferers), and as near the honest mean.
    pooled, informed = _mean_rates(1.0)
    assert informed >= pooled - 0.0002
    assert abs(informed - 0.025) <= abs(pooled - 0.025) + 0.0002


def test_information_weighted_rate_is_moved_less_by_busy_peers_running_high() -> None:
    # The two busiest hubs at twice their honest rate lift the pooled rate by a fifth or more;
    # weighed by information, busy hubs count at most 1 / rho each and lift it markedly less.
    pooled, informed = _mean_rates(2.0)
    assert pooled - 0.025 >= 0.005
    assert informed - 0.025 <= 0.75 * (pooled - 0.025)


def test_information_weighted_rate_is_the_pooled_rate_when_peers_are_alike() -> None:
    t = Thresholds()
    peers = [(4, 200, 1), (30, 1500, 2), (1, 50, 3)]
    # Shrunk to the pooled rate itself (the rate test's peer rate), so alike peers read it.
    pooled = shrunk_rate(4 + 60 + 3, 200 + 3000 + 150, 0.03, t.prior_strength)
    assert information_rate(peers, 1e9, t, 0.03) == pytest.approx(
        shrunk_rate(4 + 60 + 3, 200 + 3000 + 150, pooled, t.prior_strength)
    )
    assert information_rate(peers, 1e9, t, 0.03) == pytest.approx(pooled, rel=5e-3)
    # Peers that differ widely: each counts about once, whatever its trials.
    network = shrunk_rate(42, 1100, 0.03, t.prior_strength)
    assert information_rate([(2, 100, 1), (40, 1000, 1)], 1.0, t, 0.03) == pytest.approx(
        (0.02 * 100 / 50.5 + 0.04 * 1000 / 500.5 + t.prior_strength * network)
        / (100 / 50.5 + 1000 / 500.5 + t.prior_strength)
    )


# Hubs with a record (rates 1.5-6.7 %), and the same among thousands of one-parcel hubs
# without an incident (a test database's factories each make a hub of one parcel).
HUBS_WITH_A_RECORD = [(6, 400), (0, 30), (2, 30), (3, 60), (1, 25)]


def test_one_parcel_peers_do_not_read_the_honest_mean_near_nothing() -> None:
    t = Thresholds()
    busy = [(k, n, 1) for k, n in HUBS_WITH_A_RECORD]
    alone = information_rate(busy, 124.0, t, 0.03)
    crowded = information_rate([*busy, (0, 1, 30_000), (0, 2, 200)], 124.0, t, 0.03)
    assert 0.01 <= crowded <= alone
    # Before, every one-parcel hub weighed once and the mean read 0.0002.
    assert crowded >= 0.5 * alone


def test_without_a_peer_of_five_parcels_the_honest_mean_is_the_rate_tests() -> None:
    t = Thresholds()
    peers = [(0, 1, 500), (1, 2, 10), (1, 4, 3)]
    assert information_rate(peers, 124.0, t, 0.03) == pytest.approx(
        peer_rate(13, 500 + 20 + 12, 0.03, t.prior_strength)
    )


def test_a_hub_the_rate_test_finds_is_not_cleared_by_its_sequential_test() -> None:
    # 10 of 30 parcels lost among hubs read near the floor: the rate test's p is 2.6e-10, and
    # the sequential test, weighing the same peers, now reaches its alert too (it read e^-27).
    from services.fraud.scoring.base import default_config

    t, s = Thresholds(), default_config().sequential
    peers = [(0, 1)] * 30_000 + [(0, 2)] * 200 + HUBS_WITH_A_RECORD
    b = robust_baseline(peers, t, prior_rate=0.03, leave_out=True, by_information=True)
    assert b.spread is not None
    assert rate_test(10, 30, b.k, b.n, t, prior_rate=0.03).p <= t.alpha_high
    assert sequential_test(10, 30, b.spread, s).log_bf >= math.log(1 / s.alpha)


def test_the_share_test_takes_a_part_with_more_events_than_trials_as_it_will_be() -> None:
    # Disputes are counted as claims arrive, returns when the delivery scan does (a partner's
    # batch hours later): a buyer may show two disputes elsewhere against one return. Each
    # event is a trial, so the test reads the record as at least that many trials, never
    # raises on a negative count, and is unchanged on a consistent record.
    from services.fraud.detectors.collusion import agent_buyer_findings
    from services.fraud.detectors.stats import hypergeometric_sf

    assert hypergeometric_sf(3, 3, 5, 4) == hypergeometric_sf(3, 3, 5, 5) == 1.0
    assert hypergeometric_sf(2, 1, 2, 1) == hypergeometric_sf(2, 2, 2, 2)
    assert hypergeometric_sf(3, 5, 4, 12) == pytest.approx(0.1515151515)
    found = agent_buyer_findings(
        "AG-1", "B-1", 6, 6, 30, 1000, Thresholds(), buyer_elsewhere=(2, 1), vouched=6
    )
    assert all(f.pattern == "collusion" for f in found)
