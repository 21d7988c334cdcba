"""The statistics every detector shares: exact binomial and Poisson tails, empirical-Bayes
shrinkage of small samples, the tolerance null, and the map from a p-value to a score.

A detector never compares a rate with a fixed count. It asks: if this entity behaved like its
peers (allowing a stated tolerance), how likely is a count at least this large? That tail
probability is judged against a stated false-alarm rate (`alpha_high`, `alpha_medium`).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

# Re-exported: the detectors take every statistic from this module.
from shared.stats import binomial_sf as binomial_sf
from shared.stats import binomial_sf_above as binomial_sf_above
from shared.stats import poisson_sf as poisson_sf


def shrunk_rate(k: int, n: int, prior_rate: float, prior_strength: float) -> float:
    """Posterior mean of a Beta-binomial rate whose prior is centred on the peer rate.

    With few observations the estimate stays near the peers'; with many it follows the data.
    """
    return (k + prior_strength * prior_rate) / (n + prior_strength)


def peer_rate(k: int, n: int, prior_rate: float, prior_strength: float) -> float:
    """The peers' pooled rate, kept away from 0 while the network is young."""
    return shrunk_rate(k, n, prior_rate, prior_strength)


def tolerance_null(peer: float, *, ratio: float, min_excess: float, odds: bool = False) -> float:
    """The rate an honest entity may plausibly show: `ratio` times its peers', at least
    `min_excess` above them. Honest entities differ; the test asks for more than that.

    `odds`: `ratio` times the peers' odds (`odds_multiple`) instead of their rate. The two
    agree where events are rare; where the peers' rate is high (a marketplace whose honest
    sellers claim on a quarter of their returns), twice it is a rate no group of returns can
    be shown to exceed, and a test against it finds nothing."""
    high = odds_multiple(peer, ratio) if odds else peer * ratio
    return min(0.95, max(high, peer + min_excess))


def odds_multiple(rate: float, ratio: float) -> float:
    """The rate whose odds are `ratio` times those of `rate`: about `ratio` times `rate`
    while it is small, and never 1 or more however high it is."""
    if rate >= 1.0:
        return 1.0
    odds = ratio * rate / (1.0 - rate)
    return odds / (1.0 + odds)


def alternative_rate(base: float, ratio: float, cap: float = 0.95) -> float:
    """An alternative hypothesis's rate, `ratio` times `base`: an entity that many times as
    likely to have an event is taken to be at most that many times less likely to have none,
    so that where `base` is high the stronger ratios stay apart instead of all running into
    `cap`. Unchanged for every base below 1/7 at 6x (below 0.2 at 4x, 2/7 at 2.5x)."""
    return min(ratio * base, 1.0 - (1.0 - base) / ratio, cap)


def hamming64(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def phash_to_int(value: str) -> int:
    return int(value, 16)


def phash_chunks(value: int) -> list[int]:
    """The eight bytes of a 64-bit hash: two hashes within Hamming distance 7 share at least one
    byte in the same position (pigeonhole), so an equality index on the bytes finds them all."""
    return [(value >> (8 * i)) & 0xFF for i in range(8)]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Stated false-alarm rates and the tolerance of the null hypothesis."""

    alpha_high: float = 1e-4
    alpha_medium: float = 1e-2
    tolerance_ratio: float = 2.0
    min_excess: float = 0.02
    prior_strength: float = 20.0
    # The bound on how alike honest peers are taken to be (see `Sequential`), with which the
    # robust baseline estimates its kept peers' spread.
    max_concentration: float = 1000.0


def contribution_from_p(p: float, t: Thresholds) -> float:
    """Map a tail probability to a score contribution, so that a single finding is HIGH exactly
    when p <= alpha_high and MEDIUM when p <= alpha_medium (interpolated in log p)."""
    if p > t.alpha_medium:
        # Weak evidence still nudges the score, never past LOW.
        return max(0.0, min(0.3, 0.3 * (1 - p) / (1 - t.alpha_medium))) if p < 0.1 else 0.0
    lp = -math.log10(max(p, 1e-300))
    lo, hi = -math.log10(t.alpha_medium), -math.log10(t.alpha_high)
    if lp >= hi:
        # Beyond alpha_high: from 0.8 towards 0.99 as the evidence keeps growing.
        return min(0.99, 0.8 + 0.02 * (lp - hi))
    return 0.5 + 0.3 * (lp - lo) / (hi - lo)


def fmt_p(p: float) -> str:
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


@dataclass(frozen=True, slots=True)
class RateTest:
    """One entity's count against its peers: what a rate-based reason code reports."""

    k: int
    n: int
    rate: float
    shrunk: float
    peer: float
    null: float
    p: float

    def numbers(self) -> dict[str, float | int | str]:
        return {
            "count": self.k,
            "trials": self.n,
            "rate": round(self.rate, 4),
            "shrunk_rate": round(self.shrunk, 4),
            "peer_rate": round(self.peer, 4),
            "null_rate": round(self.null, 4),
            "p_value": float(f"{self.p:.3g}"),
        }

    def detail(self) -> str:
        return (
            f"{self.rate:.2f} ({self.k}/{self.n}, shrunk {self.shrunk:.2f}) vs peer "
            f"{self.peer:.3f}, p={fmt_p(self.p)}"
        )


def rate_test(
    k: int,
    n: int,
    peer_k: int,
    peer_n: int,
    t: Thresholds,
    *,
    prior_rate: float,
    odds: bool = False,
) -> RateTest:
    """Test k of n against the peers' pooled rate (the entity's own counts excluded);
    `odds`: the tolerance is a multiple of the peers' odds (`tolerance_null`)."""
    n = max(n, k)  # counts from different events can run ahead of each other; never k > n
    peer = peer_rate(max(peer_k, 0), max(peer_n, 0), prior_rate, t.prior_strength)
    null = tolerance_null(peer, ratio=t.tolerance_ratio, min_excess=t.min_excess, odds=odds)
    p = binomial_sf(k, n, null)
    return RateTest(
        k=k,
        n=n,
        rate=(k / n) if n else 0.0,
        shrunk=shrunk_rate(k, n, peer, t.prior_strength),
        peer=peer,
        null=null,
        p=p,
    )


@dataclass(frozen=True, slots=True)
class RobustBaseline:
    """The kept peers' pooled counts, and the tolerance null they were kept under."""

    k: int
    n: int
    null: float
    # How much the kept peers differ from each other (sequential tests' honest population).
    spread: PeerSpread | None = None

    def keeps(self, k: int, n: int, t: Thresholds) -> bool:
        """Whether a peer with these counts is among the kept ones (the rule of the last
        round)."""
        return k == 0 or binomial_sf_above(k, max(n, k), self.null, t.alpha_medium)

    def without(self, k: int, n: int, t: Thresholds) -> tuple[int, int]:
        """The baseline of everyone but one entity that was counted in it: its counts come out
        when it was kept."""
        if (k > 0 or n > 0) and self.keeps(k, n, t):
            return max(self.k - k, 0), max(self.n - max(n, k), 0)
        return self.k, self.n


def robust_peer_counts(
    peers: Sequence[tuple[int, int]], t: Thresholds, *, prior_rate: float, rounds: int = 5
) -> tuple[int, int]:
    """The counts of `robust_baseline`."""
    baseline = robust_baseline(peers, t, prior_rate=prior_rate, rounds=rounds, spread=False)
    return baseline.k, baseline.n


def distinct_counts(peers: Iterable[tuple[int, int]]) -> Counter[tuple[int, int]]:
    """The peers' distinct (count, trials) as a baseline counts them (the count at least 0, the
    trials at least the count; a peer with neither left out), with their multiplicity, in the
    order they first appear. The pairs are counted as given first (`Counter`'s C loop), then
    clamped once per distinct pair: a claim's peers are hundreds or thousands of sellers or
    buyers, and a Python expression per peer was most of what a baseline of them cost. The
    same counter, order included, as clamping every peer first."""
    live: Counter[tuple[int, int]] = Counter()
    for (k, n), m in Counter(peers).items():
        if n > 0 or k > 0:
            live[(max(k, 0), max(n, k, 0))] += m
    return live


def robust_baseline(
    peers: Sequence[tuple[int, int]],
    t: Thresholds,
    *,
    prior_rate: float,
    rounds: int = 5,
    leave_out: bool = False,
    by_information: bool = False,
    spread: bool = True,
    alike_level: float | None = None,
) -> RobustBaseline:
    """The pooled counts of the peers that themselves look like peers (and, unless `spread` is
    False, how much they differ: `sequential_peers`, most of a baseline's cost, which a caller
    reading only the counts does without).

    A pooled peer rate is dragged up by the very behaviour the detectors look for: claim
    abusers lift their category's claim rate, a pilfering hub lifts the hubs'. Where fraud is
    common it can lift the pool so far that no abuser stands out against it. So the baseline
    starts from the cleaner half of the peers (the lower half of all trials, ordered by shrunk
    rate), and each round keeps every peer whose own count is not significant
    (p <= alpha_medium) against the tolerance null of the kept peers' rate, until the kept set
    settles. An honest peer is left out with probability about alpha_medium, which lowers the
    baseline by a negligible share; a planted outlier is left out as soon as its excess is
    plain, however many there are, as long as they carry less than half of the trials.
    """
    # Peers with the same counts are kept or left out together, so the work runs over the
    # distinct counts with their multiplicity: a few dozen pairs, however many peers.
    live = distinct_counts(peers)
    total_k = sum(k * m for (k, _), m in live.items())
    total_n = sum(n * m for (_, n), m in live.items())
    centre = peer_rate(total_k, total_n, prior_rate, t.prior_strength)
    kept_k = kept_n = 0
    # Every live peer has n >= 1. Peers join in order of shrunk rate until they hold half of
    # all trials; of a group, as many as that takes.
    for (k, n), m in sorted(
        live.items(), key=lambda c: shrunk_rate(c[0][0], c[0][1], centre, t.prior_strength)
    ):
        if 2 * kept_n >= total_n:
            break
        joining = min(m, -(-(total_n - 2 * kept_n) // (2 * n)))
        kept_k, kept_n = kept_k + k * joining, kept_n + n * joining
    kept: list[tuple[int, int, int]] = []
    null = t.min_excess
    for _ in range(rounds):
        rate = peer_rate(kept_k, kept_n, prior_rate, t.prior_strength)
        null = tolerance_null(rate, ratio=t.tolerance_ratio, min_excess=t.min_excess)
        survivors = [
            (k, n, m)
            for (k, n), m in live.items()
            if k == 0 or binomial_sf_above(k, n, null, t.alpha_medium)
        ]
        if survivors == kept:
            break
        kept = survivors
        kept_k, kept_n = sum(k * m for k, _, m in kept), sum(n * m for _, n, m in kept)
    return RobustBaseline(
        kept_k,
        kept_n,
        null,
        sequential_peers(
            kept,
            t,
            prior_rate=prior_rate,
            leave_out=leave_out,
            by_information=by_information,
            alike_level=alike_level,
        )
        if spread
        else None,
    )


def sequential_peers(
    kept: Sequence[tuple[int, int, int]],
    t: Thresholds,
    *,
    prior_rate: float,
    rounds: int = 3,
    leave_out: bool = False,
    by_information: bool = False,
    alike_level: float | None = None,
) -> PeerSpread:
    """The honest population a sequential test weighs an entity against: the rate and spread
    of the kept peers, less those whose own sequential evidence is telling (MEDIUM).

    The rate tests' rule keeps every peer within twice the peers' rate, so moderate fraudsters
    (2.5-4x) stay among the kept peers; where they are many in one category they lift its rate
    and widen its spread until none of them stands out. Peers whose evidence for 2.5x reaches
    1/alpha_medium under the current estimate leave it, and it is estimated again; an honest
    peer does so with probability at most alpha_medium.

    `leave_out` (hubs and agents, a few to a few hundred peers): a peer's evidence is weighed
    against the others without it. Two pilfering hubs among eight each widen the spread the
    other is judged by, so neither reaches MEDIUM and both stay in (a peer is weighed against
    a population that holds itself); left out in turn, each is weighed against the honest hubs
    and the other, and the one that stands out leaves first. Only peers whose evidence already
    leans to the alternative (a Bayes factor above 1) are weighed again: an honest peer whose
    record favours the honest population cannot reach MEDIUM by its own absence, and the work
    stays a handful of spread estimates, not one per peer.

    `by_information` (hubs and agents): the rate is each peer's own rate weighed by what it
    tells of the honest mean (`information_rate`), not the pooled rate: a few busy peers
    lifted by pilferage not yet found (a hub carrying pilfering agents) would otherwise set
    it for everyone; and the spread is `information_spread`, weighed the same way.

    `alike_level` (QC agents, since 2026-12-05): how alike honest peers are taken to be at most
    is no longer `t.max_concentration` alone: where the peers' own scatter shows them more
    alike than that at this confidence (`proven_alike`), the bound is what it shows."""
    s = Sequential(max_concentration=t.max_concentration)
    peers = list(kept)

    def bound(ps: Sequence[tuple[int, int, int]]) -> float:
        if alike_level is None:
            return t.max_concentration
        return max(t.max_concentration, proven_alike(ps, prior_rate=prior_rate, level=alike_level))

    # Read again each round from the peers still kept (moderate fraudsters among them widen
    # their scatter, and leave with the round that finds them telling), but not for each
    # peer weighed without itself: one peer more or less barely moves it.
    most = bound(peers)

    def estimate(ps: Sequence[tuple[int, int, int]]) -> PeerSpread:
        if by_information:
            spread = information_spread(ps, prior_rate=prior_rate, max_concentration=most)
            return PeerSpread(
                information_rate(ps, spread.concentration, t, prior_rate), spread.concentration
            )
        spread = peer_spread(ps, prior_rate=prior_rate, max_concentration=most)
        return PeerSpread(_peer_pool_rate(ps, t, prior_rate), spread.concentration)

    current = estimate(peers)
    for _ in range(rounds):
        against = _HonestPopulation.of(current, s)
        trimmed = [
            (k, n, m)
            for i, (k, n, m) in enumerate(peers)
            if k == 0 or not _telling_peer(i, peers, against, s, estimate, leave_out)
        ]
        if len(trimmed) == len(peers):
            break
        peers = trimmed
        most = bound(peers)
        current = estimate(peers)
    return current


def _telling_peer(
    i: int,
    peers: Sequence[tuple[int, int, int]],
    current: _HonestPopulation,
    s: Sequential,
    estimate: Callable[[Sequence[tuple[int, int, int]]], PeerSpread],
    leave_out: bool,
) -> bool:
    """Whether peer `i`'s own sequential evidence is MEDIUM against the current estimate, or
    (`leave_out`, its evidence leaning to the alternative) against the others without it."""
    k, n, m = peers[i]
    medium = math.log(1 / s.alpha_medium)
    log_bf = current.log_bf(k, n)
    if log_bf >= medium or not leave_out or log_bf <= 0:
        return log_bf >= medium
    others = [*peers[:i], *([(k, n, m - 1)] if m > 1 else []), *peers[i + 1 :]]
    return sequential_log_bf(k, n, estimate(others), s) >= medium


def _peer_pool_rate(
    peers: Sequence[tuple[int, int, int]], t: Thresholds, prior_rate: float
) -> float:
    """The pooled rate of peers given as (count, trials, multiplicity)."""
    return peer_rate(
        sum(k * m for k, _, m in peers),
        sum(n * m for _, n, m in peers),
        prior_rate,
        t.prior_strength,
    )


def information_rate(
    peers: Sequence[tuple[int, int, int]],
    concentration: float,
    t: Thresholds,
    prior_rate: float,
    *,
    min_trials: int = 5,
) -> float:
    """The honest mean of peers given as (count, trials, multiplicity) whose own rates are
    drawn from a Beta of this concentration: each peer's rate weighed by its information about
    that mean, n / (1 + (n - 1) rho) with rho = 1 / (concentration + 1) (the inverse of its
    rate's variance under the beta-binomial, up to a constant), shrunk to `prior_rate` as the
    pooled rate is.

    The pooled rate weighs a peer by its trials, so a busy peer counts four times a quiet
    one however far honest peers differ; but where they differ, a peer's rate tells the mean
    no more than its own draw from the Beta, however many trials it holds (weight at most
    1 / rho). Both are unbiased for the honest mean (any fixed weights are), so an honest
    population is not read lower; one or two busy peers running high move it far less. With
    peers alike (rho near 0) it is the pooled rate.

    The peers weighed are those the spread is read from (`min_trials` trials or more), and the
    mean is shrunk to the pooled rate of every peer (parcel-weighted, itself shrunk to
    `prior_rate`: the rate test's peer rate), not to `prior_rate`. A peer of one or two parcels
    says nothing of how its rate sits in the spread, yet weighed at least once each, thousands
    of one-parcel hubs without an incident (a test database's) read the honest mean at 0.0002
    where the peers with a record ran at 1-3 %; the sequential test's alternatives, 2.5-6 times
    that, then fitted a hub at 34 % worse than the honest spread did, and its Bayes factor fell
    to e^-27 while the rate test found p = 2.6e-10. Their parcels still count, through the
    pooled rate: with no peer of `min_trials` the mean is the rate test's."""
    rho = 1.0 / (max(concentration, 0.0) + 1.0)
    all_k = sum(max(k, 0) * m for k, n, m in peers if n > 0)
    all_n = sum(n * m for _, n, m in peers if n > 0)
    network = peer_rate(all_k, all_n, prior_rate, t.prior_strength)
    num = den = 0.0
    for k, n, m in peers:
        if n < max(min_trials, 1):
            continue
        w = m * n / (1.0 + (n - 1) * rho)
        num, den = num + w * k / n, den + w
    return (num + t.prior_strength * network) / (den + t.prior_strength)


def stands_out(
    k: int,
    n: int,
    mates_k: int,
    mates_n: int,
    t: Thresholds,
    *,
    prior_rate: float,
    min_mates: int = 30,
) -> bool:
    """One part of a place (an agent at a hub) whose count is significant (alpha_medium) against
    the rest of that place: the part, not the place, explains the place's excess."""
    if mates_n < min_mates or k == 0:
        return False
    return rate_test(k, n, mates_k, mates_n, t, prior_rate=prior_rate).p <= t.alpha_medium


def parts_standing_out(
    parts: Mapping[str, tuple[int, int]],
    t: Thresholds,
    *,
    prior_rate: float,
    min_core: int = 30,
) -> set[str]:
    """The parts of a place (agents at a hub) that stand out against the place's ordinary parts.

    Testing each part against all the others fails when a place has several bad parts: each
    bad one hides behind the others. So the ordinary core is grown from the lowest rate up:
    each next part is tested against the core so far (alpha_medium; a small core shrinks to
    the prior) and joins it unless it stands out. A place whose parts all run alike (a hub
    where every agent sees the same excess) has no part standing out: the place is the cause.
    While the core is small (`min_core` trials) and no part stood out against it, the worst
    part is also tested against all the others together. A young place whose parts run alike
    keeps its whole excess.
    """
    live = {name: (max(k, 0), max(n, k, 0)) for name, (k, n) in parts.items() if n > 0}
    if len(live) < 2:
        return set()
    total_k = sum(k for k, _ in live.values())
    total_n = sum(n for _, n in live.values())
    centre = peer_rate(total_k, total_n, prior_rate, t.prior_strength)
    order = sorted(live, key=lambda name: shrunk_rate(*live[name], centre, t.prior_strength))
    core_k, core_n = live[order[0]]
    out: set[str] = set()
    for name in order[1:]:
        k, n = live[name]
        if k and rate_test(k, n, core_k, core_n, t, prior_rate=prior_rate).p <= t.alpha_medium:
            out.add(name)
        else:
            core_k, core_n = core_k + k, core_n + n
    if core_n < min_core and not out:
        # A core this small barely bites; the worst part gets a second chance to stand out,
        # against all the others together.
        worst = max(live, key=lambda name: (live[name][0], -live[name][1]))
        k, n = live[worst]
        if (
            k
            and rate_test(k, n, total_k - k, total_n - n, t, prior_rate=prior_rate).p
            <= t.alpha_medium
        ):
            return {worst}
        return set()
    return out


def fisher_combined(p_values: Sequence[float]) -> float:
    """Fisher's combination of independent tests' p-values: P(chi-square with 2m degrees of
    freedom >= -2 sum log p). Several weak findings together are judged by this, not by adding
    up their scores: two findings at p=0.01 make p=1e-3, not a certainty."""
    ps = [min(max(p, 1e-300), 1.0) for p in p_values]
    if not ps:
        return 1.0
    half = -sum(math.log(p) for p in ps)  # chi-square statistic / 2
    term, total = 1.0, 1.0
    for i in range(1, len(ps)):
        term *= half / i
        total += term
    return min(1.0, math.exp(-half) * total)


# --- sequential tests -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sequential:
    """The sequential test's hypotheses and stated error rates (see `sequential_test`)."""

    # The alternative: the entity runs at `ratio` times its peers' rate, or at one of the
    # `stronger` ratios, each with its prior weight (`ratio` holds the remaining weight). A
    # mixture of alternatives is still a Bayes factor against the honest population, so the
    # false-alarm bound below is unchanged; it reaches the alert sooner on an entity well above
    # 2.5x (at 4x about 15 % fewer trials) and a little later on one at exactly 2.5x.
    ratio: float = 2.5
    stronger: tuple[tuple[float, float], ...] = ((4.0, 0.3), (6.0, 0.2))
    # Alert when the Bayes factor for the alternative reaches 1/alpha: by Ville's inequality an
    # entity drawn from the honest population ever gets there with probability at most alpha.
    alpha: float = 1e-3
    # MEDIUM from a Bayes factor of 1/alpha_medium on.
    alpha_medium: float = 0.05
    # No alert (and no HIGH) on fewer events than this, whatever the factor: the strong
    # alternatives of the mixture make three claims on a small seller's first three deliveries
    # look like 6x, and an entity that rare among honest ones is the honest look-alike the
    # bound allows for. It stays MEDIUM, and is re-examined with every event.
    min_events: int = 5
    # An alert of the test is cleared once the Bayes factor has fallen to this: the record
    # favours an ordinary entity ten to one (an empty record, a factor of 1, clears nothing).
    clear_at: float = 0.1
    # Most pseudo-observations the honest spread may hold: a spread estimated as nil (peers
    # alike) still allows honest entities to differ a little.
    max_concentration: float = 1000.0


@dataclass(frozen=True, slots=True)
class PeerSpread:
    """The honest population of a rate: its mean and how much honest entities differ (a Beta
    distribution with this mean and concentration a + b). `sequential_peers` gives the one a
    sequential test weighs against."""

    rate: float
    concentration: float


def peer_spread(
    peers: Sequence[tuple[int, int, int]],
    *,
    prior_rate: float,
    max_concentration: float,
    min_trials: int = 5,
) -> PeerSpread:
    """The Beta distribution of honest rates, from peers' (count, trials, multiplicity).

    Under a beta-binomial with intra-class correlation rho = 1 / (a + b + 1), a peer's
    standardised rate z = (k/n - p) / sqrt(p (1 - p) / n) has variance 1 + (n - 1) rho:
    the peers scatter more than binomial noise alone would scatter them (method of moments).
    Fraudsters among the peers would widen that variance and hide each other (a pilfering
    agent lifts its hub above the other hubs), so peers whose z lies more than three robust
    standard deviations (1.4826 times the median absolute deviation, at least the binomial
    one) from the median leave the estimate first: an honest peer does so rarely. Peers with
    fewer than `min_trials` trials say nothing of the spread and are left out of it."""
    used = [(k, n, m) for k, n, m in peers if n >= min_trials]
    # The centre is the trial-weighted median rate, not the pooled one: large fraudsters
    # among the peers would pull a pooled rate towards themselves.
    rate = (
        min(max(_weighted_median([(k / n, n * m) for k, n, m in used]), 1e-4), 0.5)
        if used
        else prior_rate
    )
    if sum(m for _, _, m in used) >= 5:
        sd = math.sqrt(rate * (1 - rate))
        z = [((k / n - rate) / (sd / math.sqrt(n)), (k, n, m)) for k, n, m in used]
        centre = _weighted_median([(v, c[2]) for v, c in z])
        mad = _weighted_median([(abs(v - centre), c[2]) for v, c in z])
        reach = 3 * max(1.4826 * mad, 1.0)
        used = [c for v, c in z if abs(v - centre) <= reach]
        rate = _pooled(used, prior_rate)
    count = sum(m for _, _, m in used)
    total_n = sum(n * m for _, n, m in used)
    if count < 5 or total_n <= 0:
        return PeerSpread(rate, max_concentration)
    ss = sum(m * n * (k / n - rate) ** 2 for k, n, m in used)
    sum_n2 = sum(m * n * n for _, n, m in used)
    denominator = total_n - sum_n2 / total_n
    if denominator <= 0:
        return PeerSpread(rate, max_concentration)
    rho = (ss / (rate * (1 - rate)) - (count - 1)) / denominator
    if rho <= 1.0 / (max_concentration + 1):
        return PeerSpread(rate, max_concentration)
    return PeerSpread(rate, max(1.0 / min(rho, 0.5) - 1, 2.0))


def information_spread(
    peers: Sequence[tuple[int, int, int]],
    *,
    prior_rate: float,
    max_concentration: float,
    min_trials: int = 5,
    reach: float = 3.0,
    rounds: int = 4,
) -> PeerSpread:
    """The Beta distribution of honest rates, from peers' (count, trials, multiplicity), each
    peer weighed by its information (hubs and agents).

    `peer_spread` weighs each peer's squared deviation by its trials, so a busy peer running
    high (a hub carrying pilfering agents not yet found) sets the spread for everyone; and its
    robust trim, three binomial standard deviations of the median absolute deviation, leaves
    out honest busy peers wherever peers differ, so on honest peers alone it reads them nearer
    alike than they are: simulated, a concentration of 100 read as 190-260 (median), and an
    honest entity alerted 2 % of the time against the stated 0.5 %
    (`tests/unit/test_fraud_sequential.py`).

    Here the spread is the one under which the peers' information-weighted scatter is what
    chance gives (Paule and Mandel's estimator): rho = 1 / (a + b + 1) such that
    Q(rho) = sum w_i (y_i - mean_w)^2 / (p (1 - p)), w_i = n_i / (1 + (n_i - 1) rho), the
    inverse variance of a peer's rate under the beta-binomial, equals the median of its
    chi-square distribution with (peers - 1) degrees of freedom. Q falls as rho grows, so the
    estimate is as often wider as narrower than the truth (median-unbiased; the mean of the
    distribution, peers - 1, would read the peers narrower than they are more often than not),
    and a busy peer counts at most 1 / rho trials' worth. Pilferers widen it (they are far
    from the mean), so peers more than `reach` of their own standard deviations above the
    mean (an honest peer about one time in 700) leave it, and it is estimated again from the
    others, until no more leave; the others' Q is then read against the variance of a normal
    truncated at `reach` (0.987 of it), so that leaving out what an honest population holds
    above `reach` does not read it narrower. Only high peers leave: pilferage only lifts a
    rate. Fewer than five peers with `min_trials` trials, or a scatter within chance even
    with peers alike: `max_concentration`."""
    used = [(max(k, 0), n, m) for k, n, m in peers if n >= min_trials]
    lowest = 1.0 / (max_concentration + 1)
    kept = used
    rho, rate = lowest, _pooled(used, prior_rate)
    for _ in range(rounds):
        count = sum(m for _, _, m in kept)
        if count < 5:
            return PeerSpread(rate, max_concentration)
        # Left-out peers make the rest a sample truncated at `reach`: compare its scatter
        # with that sample's share of chi-square.
        share = _truncated_variance(reach) if len(kept) < len(used) else 1.0
        rho = _scatter_root(kept, share * _chi_square_median(count - 1), lowest)
        rate = _information_mean(kept, rho, prior_rate)
        staying = _within_reach(used, rate, rho, reach)
        if len(staying) == len(kept):
            break
        kept = staying
    return PeerSpread(rate, max(1.0 / rho - 1, 2.0) if rho > lowest else max_concentration)


# The most alike `proven_alike` ever reads honest peers: a Beta of this many pseudo-observations
# is a binomial rate for any record a window holds (an honest agent's 500 passes scatter 0.5 %
# more than binomial noise alone).
PROVEN_ALIKE_MOST = 100_000.0


def proven_alike(
    peers: Sequence[tuple[int, int, int]],
    *,
    prior_rate: float,
    level: float,
    most: float = PROVEN_ALIKE_MOST,
    min_trials: int = 5,
    reach: float = 3.0,
    rounds: int = 4,
) -> float:
    """How alike peers given as (count, trials, multiplicity) are shown to be by their own
    scatter, at confidence `level`: the concentration a + b of the widest Beta spread of honest
    rates their scatter does not rule out (0.0 where it shows nothing: fewer than five peers
    with `min_trials` trials).

    The spread's estimate (`peer_spread`, `information_spread`) is as often narrower than the
    truth as wider, so it is held to a fixed bound on how alike peers may be read. This is that
    bound read from the peers: the upper confidence limit of rho = 1 / (a + b + 1), the rho at
    which the peers' information-weighted scatter Q(rho) (`information_spread`) falls to the
    (1 - level) quantile of chi-square with (peers - 1) degrees of freedom; at any wider spread
    scatter as small as theirs would come less than (1 - level) of the time. Many peers with
    many trials each show that honest peers are alike (rho is measured to about
    sqrt(2 / peers) / trials); a handful show little, and the bound comes out wide. Peers more
    than `reach` of their own standard deviations above the mean (fraudsters, whose excess
    lifts the scatter) leave it in turn, the rest read against the truncated variance, as in
    `information_spread`; leaving them out can only make the peers look more alike, which is
    why the limit is taken at a confidence `level` rather than at the median."""
    used = [(max(k, 0), n, m) for k, n, m in peers if n >= min_trials]
    lowest = 1.0 / (most + 1.0)
    z = statistics.NormalDist().inv_cdf(1.0 - level)
    kept = used
    rho = lowest
    for _ in range(rounds):
        count = sum(m for _, _, m in kept)
        if count < 5:
            return 0.0
        df = count - 1
        # Wilson and Hilferty's chi-square quantile, as `_chi_square_median`.
        quantile = df * max(1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df)), 0.0) ** 3
        share = _truncated_variance(reach) if len(kept) < len(used) else 1.0
        rho = _scatter_root(kept, share * quantile, lowest)
        rate = _information_mean(kept, rho, prior_rate)
        staying = _within_reach(used, rate, rho, reach)
        if len(staying) == len(kept):
            break
        kept = staying
    return most if rho <= lowest else 1.0 / rho - 1.0


def _within_reach(
    peers: Sequence[tuple[int, int, int]], rate: float, rho: float, reach: float
) -> list[tuple[int, int, int]]:
    """The peers no more than `reach` of their own standard deviations (binomial, widened by the
    spread rho) above `rate`: a trimming round's honest-looking bulk."""
    sd = math.sqrt(rate * (1 - rate))
    return [
        (k, n, m)
        for k, n, m in peers
        if k / n - rate <= reach * sd * math.sqrt((1 + (n - 1) * rho) / n)
    ]


def _information_mean(
    peers: Sequence[tuple[int, int, int]], rho: float, prior_rate: float
) -> float:
    """The peers' rates averaged with weights n / (1 + (n - 1) rho)."""
    return _weighted_mean(_Scattered.of(peers).weighed(rho), prior_rate)


def _weighted_mean(weights: Sequence[tuple[float, float]], prior_rate: float) -> float:
    total = sum(w for w, _ in weights)
    mean = sum(w * y for w, y in weights) / total if total > 0 else prior_rate
    return min(max(mean, 1e-4), 0.5)


@dataclass(frozen=True, slots=True)
class _Scattered:
    """Peers' (count, trials, multiplicity) as what their information weights are made of,
    taken apart once for the ten or so values of rho `_scatter_root` tries (the same
    arithmetic as from the tuples, so the same numbers)."""

    mn: tuple[int, ...]  # m * n
    n1: tuple[int, ...]  # n - 1
    y: tuple[float, ...]  # k / n

    @classmethod
    def of(cls, peers: Sequence[tuple[int, int, int]]) -> _Scattered:
        return cls(
            tuple(m * n for _, n, m in peers),
            tuple(n - 1 for _, n, _ in peers),
            tuple(k / n for k, n, _ in peers),
        )

    def weighed(self, rho: float) -> list[tuple[float, float]]:
        """Each peer's weight n / (1 + (n - 1) rho) (times its multiplicity) and rate."""
        return [
            (mn / (1.0 + n1 * rho), y) for mn, n1, y in zip(self.mn, self.n1, self.y, strict=True)
        ]


def _scatter(peers: _Scattered, rho: float) -> float:
    """Q(rho) of `information_spread`."""
    weights = peers.weighed(rho)
    mean = _weighted_mean(weights, 0.0)
    return sum(w * (y - mean) ** 2 for w, y in weights) / (mean * (1 - mean))


def _scatter_root(peers: Sequence[tuple[int, int, int]], target: float, lowest: float) -> float:
    """The rho at which Q(rho) = target, between `lowest` and 1/2 (Q falls as rho grows).

    Found on log rho by regula falsi with the Illinois step (an end that stays put twice has
    its value halved), to 1e-11 of log rho: Q is smooth and monotone there, so this takes
    about ten evaluations of Q where bisection to the same precision takes forty, and the
    spread is re-estimated once per peer left out (`sequential_peers`)."""
    scattered = _Scattered.of(peers)
    lo, hi = math.log(lowest), math.log(0.5)
    f_lo, f_hi = _scatter(scattered, lowest) - target, _scatter(scattered, 0.5) - target
    if f_lo <= 0:
        return lowest
    if f_hi >= 0:
        return 0.5
    side = 0
    for _ in range(100):
        if hi - lo <= 1e-11:
            break
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        f = _scatter(scattered, math.exp(x)) - target
        if f > 0:
            lo, f_lo = x, f
            f_hi, side = (f_hi / 2, 1) if side == 1 else (f_hi, 1)
        elif f < 0:
            hi, f_hi = x, f
            f_lo, side = (f_lo / 2, -1) if side == -1 else (f_lo, -1)
        else:
            return math.exp(x)
    return math.exp(hi)


def _chi_square_median(df: int) -> float:
    """The median of chi-square with `df` degrees of freedom (Wilson and Hilferty)."""
    return df * (1 - 2 / (9 * df)) ** 3 if df > 0 else 0.0


def _truncated_variance(reach: float) -> float:
    """The variance of a standard normal with its upper tail beyond `reach` cut off, about
    its own mean: what an honest peer's standardised rate keeps once the peers above `reach`
    have left (0.987 at 3)."""
    phi = math.exp(-reach * reach / 2) / math.sqrt(2 * math.pi)
    kept = 0.5 * (1 + math.erf(reach / math.sqrt(2)))
    mean = -phi / kept
    return 1 - reach * phi / kept - mean * mean


def _pooled(peers: Sequence[tuple[int, int, int]], prior_rate: float) -> float:
    total_k = sum(k * m for k, _, m in peers)
    total_n = sum(n * m for _, n, m in peers)
    rate = (total_k + prior_rate) / (total_n + 1.0) if total_n else prior_rate
    return min(max(rate, 1e-6), 0.5)


def _weighted_median(values: Sequence[tuple[float, int]]) -> float:
    ordered = sorted(values)
    half = sum(m for _, m in ordered) / 2
    seen = 0
    for v, m in ordered:
        seen += m
        if seen >= half:
            return v
    return ordered[-1][0] if ordered else 0.0


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@dataclass(frozen=True, slots=True)
class SequentialTest:
    """One entity's evidence for running at `ratio` times its peers: the log Bayes factor of
    the alternative against the honest population."""

    k: int
    n: int
    peer: float
    concentration: float
    ratio: float
    log_bf: float
    # The entity's own record before these trials that the honest population was updated on
    # (`sequential_test`'s `history`): (events, trials).
    history: tuple[int, int] = (0, 0)

    @property
    def bayes_factor(self) -> float:
        return math.exp(min(self.log_bf, 700.0))

    def numbers(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = {
            "test": "sequential",
            "count": self.k,
            "trials": self.n,
            "rate": round(self.k / self.n, 4) if self.n else 0.0,
            "peer_rate": round(self.peer, 4),
            "peer_concentration": round(self.concentration, 1),
            "alternative_ratio": self.ratio,
            "log_bayes_factor": round(self.log_bf, 3),
        }
        if self.history[1]:
            out |= {"history_count": self.history[0], "history_trials": self.history[1]}
        return out

    def detail(self) -> str:
        rate = self.k / self.n if self.n else 0.0
        own = (
            f", given its own {self.history[0]}/{self.history[1]} before" if self.history[1] else ""
        )
        return (
            f"{rate:.3f} ({self.k}/{self.n}) vs peers {self.peer:.3f}: Bayes factor "
            f"{self.bayes_factor:.3g} for {self.ratio:g}x the peers or more over honest spread "
            f"(concentration {self.concentration:.0f}{own})"
        )


def sequential_test(
    k: int, n: int, spread: PeerSpread, s: Sequential, *, history: tuple[int, int] = (0, 0)
) -> SequentialTest:
    """The sequential probability ratio of k events in n trials: the alternative (every trial
    an event with probability `ratio` times the peers' rate) against the honest population
    (the entity's own rate drawn from the peers' Beta spread, then binomial).

    The statistic is a function of the running counts alone, so it is updated as the entity's
    counters are, event by event, and re-read whenever the entity is scored. Under the honest
    population the Bayes factor is a non-negative martingale: the share of honest entities whose
    factor ever reaches 1/alpha is at most alpha (Ville's inequality), however often it is
    looked at. Each event of an entity at 2.5x moves it up by about log 2.5 and each ordinary
    trial down by a little, so the evidence of a moderate fraudster accumulates until it
    crosses, and that of an ordinary entity flagged on a few early events drains away.

    `history`: the entity's own (events, trials) before these trials, which the honest
    population is updated on (hierarchically: the entity's honest rate is drawn from the
    peers' Beta, and its own past tells where in that Beta it sits). The honest hypothesis
    is then the posterior predictive of the new trials given the past, the alternative as
    before: under the honest population the factor of the trials after a fixed point, given
    the record before it, is still a martingale from that point on, so Ville's bound holds
    as stated. An entity whose past was ordinary is weighed against its own level, not
    against the whole honest spread; one whose past ran high is weighed against that, and
    its alternative is then `ratio` times that level (fixed by the past, so still a
    martingale): an alternative below what the past makes honest would take an entity
    running lower than its past for evidence against it."""
    n = max(n, k)
    p = min(max(spread.rate, 1e-6), 0.5)
    past_k, past_n = max(history[0], 0), max(history[1], history[0], 0)
    return SequentialTest(
        k=k,
        n=n,
        peer=p,
        concentration=spread.concentration,
        ratio=s.ratio,
        log_bf=_log_bayes_factor(k, n, p, spread.concentration, past_k, past_n, s),
        history=(past_k, past_n),
    )


@dataclass(frozen=True, slots=True)
class OpenTrial:
    """A trial whose event may still come (a delivery whose claim window is open), as each
    side of `open_record_log_bf` weighs it: the probability that an event would have come by
    now, given that it comes at all, under the honest population (`honest`) and under each
    of the alternative's manners (`alternative`, one per manner, in `open_record_log_bf`'s
    order)."""

    honest: float
    alternative: tuple[float, ...]


def open_record_log_bf(
    k: int,
    closed: int,
    open_trials: Sequence[OpenTrial],
    spread: PeerSpread,
    s: Sequential,
    manners: Sequence[tuple[float, float]],
) -> float:
    """`sequential_test`'s log Bayes factor on a record whose last trials may still have
    their event to come: `k` events, `closed` trials without one that can no longer have it,
    and `open_trials` without one so far.

    The alternative is `sequential_test`'s mixture of rates, each crossed with `manners`:
    (log prior weight, log likelihood ratio of the events' own timing against the honest
    timing), the manners' weights summing to 1 (an entity at the alternative's rate whose
    events come when honest ones do, or later). An open trial weighs 1 - q F(age) on the
    alternative at rate q, F the manner's probability of an event having come by now. The
    honest side reads an open trial as `honest` of a trial (beta-binomial on fractional
    trials: (1 - p)^G is at least 1 - p G, so the honest side is given at least its due and
    the factor errs low). Without open trials and with one manner of weight 1 and ratio 1
    this is `sequential_test`'s factor."""
    p = min(max(spread.rate, 1e-6), 0.5)
    a, b = p * spread.concentration, (1 - p) * spread.concentration
    closed = max(closed, 0)
    exposure = sum(min(max(t.honest, 0.0), 1.0) for t in open_trials)
    null = _log_beta(k + a, closed + exposure + b) - _log_beta(a, b)
    terms = []
    for ratio, log_weight in _alternatives(s):
        q = alternative_rate(p, ratio)
        base = log_weight + k * math.log(q) + closed * math.log1p(-q)
        for m, (manner_weight, timing) in enumerate(manners):
            if manner_weight <= 0:
                continue
            ll = base + math.log(manner_weight) + timing
            for t in open_trials:
                ll += math.log1p(-q * min(max(t.alternative[m], 0.0), 1.0))
            terms.append(ll)
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms)) - null


def sequential_log_bf(k: int, n: int, spread: PeerSpread, s: Sequential) -> float:
    """`sequential_test(k, n, spread, s).log_bf`, without the test's record."""
    return _HonestPopulation.of(spread, s).log_bf(k, n)


def _log_bayes_factor(
    k: int, n: int, p: float, concentration: float, past_k: int, past_n: int, s: Sequential
) -> float:
    """The log Bayes factor of `sequential_test` (n >= k, p clamped, the past counted)."""
    return _HonestPopulation(p, concentration, past_k, past_n, s).log_bf(k, n)


class _HonestPopulation:
    """What `sequential_test`'s Bayes factor takes from the honest population alone (the Beta
    updated on the entity's past, the alternatives' rates and their logarithms), worked out
    once: trimming a population asks it of every peer against the same estimate
    (`sequential_peers`). The arithmetic per entity is the test's, term by term, so the numbers
    are the same."""

    __slots__ = ("a", "b", "log_beta_ab", "alternatives")

    def __init__(
        self, p: float, concentration: float, past_k: int, past_n: int, s: Sequential
    ) -> None:
        a = p * concentration + past_k
        b = (1 - p) * concentration + past_n - past_k
        base = max(p, min(a / (a + b), 0.5))
        self.a, self.b, self.log_beta_ab = a, b, _log_beta(a, b)
        alternatives = []
        for ratio, log_weight in _alternatives(s):
            q = alternative_rate(base, ratio)
            alternatives.append((log_weight, math.log(q), math.log1p(-q)))
        self.alternatives = alternatives

    @classmethod
    def of(cls, spread: PeerSpread, s: Sequential) -> _HonestPopulation:
        return cls(min(max(spread.rate, 1e-6), 0.5), spread.concentration, 0, 0, s)

    def log_bf(self, k: int, n: int) -> float:
        """k events in n trials (n below k is taken as k, as the test does)."""
        n = max(n, k)
        terms = [lw + k * log_q + (n - k) * log_1q for lw, log_q, log_1q in self.alternatives]
        top = max(terms)
        alt = top + math.log(sum(math.exp(t - top) for t in terms))
        null = _log_beta(k + self.a, n - k + self.b) - self.log_beta_ab
        return alt - null


# The alternatives' (ratio, log prior weight) of each `Sequential` in use, by identity: a test's
# settings are a handful of long-lived objects, and hashing one per call cost more than the
# logarithms it saves. The object is kept with its entry, so an id is never reused meanwhile.
_ALTERNATIVES: dict[int, tuple[Sequential, tuple[tuple[float, float], ...]]] = {}


def _alternatives(s: Sequential) -> tuple[tuple[float, float], ...]:
    kept = _ALTERNATIVES.get(id(s))
    if kept is not None and kept[0] is s:
        return kept[1]
    rest = max(1.0 - sum(w for _, w in s.stronger), 0.0)
    out = tuple(
        (ratio, math.log(weight)) for ratio, weight in ((s.ratio, rest), *s.stronger) if weight > 0
    )
    if len(_ALTERNATIVES) > 256:  # settings made per call (tests): never more than a few
        _ALTERNATIVES.clear()
    _ALTERNATIVES[id(s)] = (s, out)
    return out


def onset_sequential_test(
    suffixes: Sequence[tuple[int, int]],
    looks: int,
    spread: PeerSpread,
    s: Sequential,
    *,
    histories: Sequence[tuple[int, int]] | None = None,
) -> SequentialTest | None:
    """The sequential test of an entity's record from the candidate onset that tells most (the
    counts (k, n) from each onset on, `suffixes`), its log Bayes factor less log `looks`: a
    change-point reading of `sequential_test` for a practice that starts partway.

    The record from one onset on, taken alone, is a Bayes factor of the same two hypotheses, a
    non-negative martingale from that onset under the honest population: it ever reaches
    `looks`/alpha with probability at most alpha/`looks` (Ville). With at most `looks` onsets
    in a window, charging each alpha/`looks` (Bonferroni) keeps the window's rate at alpha, and
    the reduced factor reads on the test's own scale (MEDIUM, alert, clearing). None without a
    candidate onset.

    Since 2026-12-04 the factor is the onsets' factors averaged (each weighed 1/`looks`), not
    the largest over `looks`: each onset's factor is a martingale (1 before its onset), so
    their weighted sum over every onset up to a horizon is one too, starting at the number of
    onsets over `looks`, and Ville's bound is the same (at most alpha/`looks` per onset). The
    sum is never below the largest, so a practice whose evidence shows from several onsets
    (those before its start, diluted, and after it) counts all of it. The test reported is the
    record that tells most, carrying the sum's factor.

    `histories` (since 2026-12-04): for each onset, the entity's own record over a fixed span
    before it, on which the honest population is updated (`sequential_test`'s `history`). It
    is fixed once the onset has passed, so each onset's factor stays a martingale from its
    onset on, and so does their average."""
    pasts = list(histories) if histories is not None else [(0, 0)] * len(suffixes)
    tests = [
        sequential_test(k, n, spread, s, history=past)
        for (k, n), past in zip(suffixes, pasts, strict=True)
    ]
    if not tests:
        return None
    best = max(tests, key=lambda test: test.log_bf)
    top = best.log_bf
    combined = top + math.log(sum(math.exp(test.log_bf - top) for test in tests))
    return replace(best, log_bf=combined - math.log(max(looks, 1)))


def sequential_contribution(test: SequentialTest, s: Sequential) -> float:
    """The score contribution of a sequential test: HIGH exactly when its Bayes factor reaches
    1/alpha, MEDIUM from 1/alpha_medium (1/BF is a valid p-value by Ville's inequality)."""
    if test.log_bf <= 0:
        return 0.0
    p = math.exp(-min(test.log_bf, 690.0))
    return contribution_from_p(p, Thresholds(alpha_high=s.alpha, alpha_medium=s.alpha_medium))


def beta_binomial_sf(k: int, n: int, spread: PeerSpread) -> float:
    """P(at least k events in n trials) for an entity of the honest population: its own rate
    drawn from the peers' Beta spread, then binomial. The tail a rate test reads where how much
    honest entities differ is measured, instead of assumed (the tolerance null's 2x)."""
    if k <= 0:
        return 1.0
    n = max(n, k)
    p = min(max(spread.rate, 1e-6), 0.5)
    a, b = p * spread.concentration, (1 - p) * spread.concentration
    base = _log_beta(a, b)
    return min(
        1.0,
        sum(
            math.exp(
                math.lgamma(n + 1)
                - math.lgamma(j + 1)
                - math.lgamma(n - j + 1)
                + _log_beta(j + a, n - j + b)
                - base
            )
            for j in range(k, n + 1)
        ),
    )


def hypergeometric_sf(k: int, n: int, successes: int, total: int) -> float:
    """P(at least k of the n drawn are successes) when n are drawn without replacement from
    `total` of which `successes` are: the exact one-sided two-sample test of whether one part
    of an entity's record (n trials, k events) holds more of its events than its share."""
    if k <= 0:
        return 1.0
    # Counts kept as events arrive can show a part with more events than trials for a while (a
    # claim on a parcel whose delivery scan comes hours later in a partner's batch): every
    # event is a trial, so each part has at least as many trials as events. Unchanged for a
    # consistent record; without it `comb` is asked for a negative count and raises.
    others_k = max(0, successes - k)
    others_n = max(total - n, others_k)
    n = max(n, k)
    successes, total = k + others_k, n + others_n
    hi = min(n, successes)
    if k > hi:
        return 0.0
    whole = math.comb(total, n)
    return min(
        1.0,
        sum(math.comb(successes, i) * math.comb(total - successes, n - i) for i in range(k, hi + 1))
        / whole,
    )
