"""Claim abuse by a seller: claims far above category peers, many high-value claims, `MISSING_ITEM`
claims whose weight was intact, claims filed just before the window closes, repeatedly."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import demoted
from services.fraud.detectors.stats import (
    OpenTrial,
    PeerSpread,
    RateTest,
    RobustBaseline,
    Sequential,
    SequentialTest,
    Thresholds,
    contribution_from_p,
    odds_multiple,
    open_record_log_bf,
    peer_rate,
    rate_test,
    robust_baseline,
    sequential_test,
)

PATTERN = "CLAIM_ABUSE"
ACTION = "Hold the seller's open claims for manual review and ask for unboxing videos."


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """The claim being scored, as far as the return's history tells."""

    claim_type: str
    item_value: int | None
    weight_intact: bool | None  # None: pickup or delivery weight unknown
    hours_after_delivery: float | None
    high_value: bool


def claim_flags(
    claim: ClaimFacts, *, window_h: float, late_margin_h: float
) -> list[tuple[str, str, float, dict[str, float | int | str]]]:
    """Red flags of this one claim (code, detail, contribution, numbers)."""
    flags: list[tuple[str, str, float, dict[str, float | int | str]]] = []
    if claim.claim_type == "MISSING_ITEM" and claim.weight_intact:
        flags.append(
            (
                "CLAIM_MISSING_ITEM_WEIGHT_INTACT",
                "MISSING_ITEM claimed but the delivered weight matches the pickup weight",
                0.35,
                {},
            )
        )
    h = claim.hours_after_delivery
    if h is not None and window_h - late_margin_h <= h <= window_h:
        flags.append(
            (
                "CLAIM_FILED_AT_WINDOW_CLOSE",
                f"filed {h:.1f} h after delivery, window closes at {window_h:.0f} h",
                0.15,
                {"hours_after_delivery": round(h, 1)},
            )
        )
    return flags


# Where a finding on too few events stops: the highest MEDIUM score.
BELOW_HIGH = 0.79


def min_deliveries(peer_rate: float, expected_claims: float) -> float:
    """The deliveries after which an ordinary seller of the category expects `expected_claims`
    claims: before them, a seller's record is too short to tell a claim abuser from a small
    honest seller's run of luck, however many of its few deliveries were claimed.

    A seller at r times its peers has its fifth claim (the events' guard) after about 5 / (r p)
    deliveries on average, so with `expected_claims` = 1 this guard holds back only sellers
    running above five times their peers, or a burst of early claims: the goal's abusers
    (2.5-4x) meet it before they meet the five events."""
    return expected_claims / max(peer_rate, 1e-6)


# The claim's own signs of abuse (fraud's spec names them beside the rate) that a seller's
# claims are counted with: (numerator metric, what), each a share of the seller's claims.
SIGNS: tuple[tuple[str, str], ...] = (
    ("claims_late", "filed as the window closes"),
    ("claims_missing_intact", "MISSING_ITEM with intact weight"),
)


def _mixture_log_bf(
    flagged: int,
    claims: int,
    p0: float,
    alternatives: Sequence[float],
    ordinary_weight: float,
) -> float:
    """log Bayes factor of `flagged` of `claims` carrying a sign: the claims carrying it at
    one of `alternatives` (each with an equal share of 1 - `ordinary_weight`) or as at `p0`
    (`ordinary_weight`), against all at `p0`."""
    flagged = min(max(flagged, 0), claims)
    terms = [math.log(ordinary_weight)]
    for share in alternatives:
        terms.append(
            math.log((1 - ordinary_weight) / len(alternatives))
            + flagged * math.log(share / p0)
            + (claims - flagged) * math.log((1 - share) / (1 - p0))
        )
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


# A sign that half of the ordinary claims carry is no sign (a marketplace whose honest claims
# are mostly MISSING_ITEM on intact parcels): `signs_log_bf` says nothing from this share on.
SIGN_CEILING = 0.5
# An abuser's claims carry a sign at no less than this many times the ordinary claims' odds of
# carrying it (`signs_log_bf`'s alternatives).
SIGN_LIFT = 2.0


def signs_log_bf(
    flagged: int,
    claims: int,
    peer_share: float,
    *,
    floor: float,
    ordinary_weight: float = 0.8,
    shares: tuple[float, ...] = (0.3, 0.6),
) -> float:
    """log Bayes factor of `flagged` of a seller's `claims` carrying one sign, against the
    seller's claims carrying it as its peers' do (`peer_share`, at least `floor`).

    The alternative is a mixture: with `ordinary_weight` the seller's claims carry the sign
    as anyone's (an abuser whose claims look ordinary), otherwise at one of `shares`, each at
    least `SIGN_LIFT` times the peers' odds: an abuser's claims carry a sign more often than
    anyone's, so a seller whose claims carry it less often than its peers' gains nothing
    (where the claim mix makes the sign common, a fixed 0.3 would lie below the peers' share
    and call the seller without signs the abuser). So an ordinary record costs at most
    log(1 / ordinary_weight), and a run of signed claims adds what it is worth. Under the
    honest population (claims signed independently at the peers' share) it is a likelihood
    ratio on the claims alone, so multiplied with the claim-rate test's it is still one, and
    Ville's bound holds for the product. Where honest sellers' shares differ widely from each
    other it does not; `floor` keeps one sign from counting for much where peers' claims (a
    simulator's) never carry it, and a sign at least `SIGN_CEILING` of the peers' claims carry
    says nothing (the share is then the claim mix's, not a sign of abuse: capping the peers'
    share below it, as this did until 2026-12-05, made an honest seller's every ordinary claim
    evidence against it)."""
    if claims <= 0:
        return 0.0
    p0 = max(peer_share, floor)
    if p0 >= SIGN_CEILING:
        return 0.0
    lifted = odds_multiple(p0, SIGN_LIFT)
    return _mixture_log_bf(
        flagged, claims, p0, [max(share, lifted) for share in shares], ordinary_weight
    )


# How an abuser may file (`open_windows_log_bf`): (share of its claims filed in the window's
# last hours, prior weight): with honest delays, or half or nine in ten of its claims as the
# window closes (the specification's late filer).
LATE_FILERS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.25), (0.9, 0.25))


@dataclass(frozen=True, slots=True)
class HonestDelays:
    """When honest claims come: the market's claims' hours after delivery, sorted
    (`ClaimInputs.honest_delays`)."""

    hours: tuple[float, ...]

    def by(self, age_h: float) -> float:
        """The share of honest claims filed within `age_h` hours of their delivery (G0): the
        part of a trial a delivery that old, not claimed yet, has shown. 1 without claims to
        read (every delivery a whole trial, as the counts read it)."""
        if not self.hours:
            return 1.0
        return bisect_right(self.hours, age_h) / len(self.hours)


@dataclass(frozen=True, slots=True)
class OpenDelivery:
    """A delivery of the seller's not claimed yet whose claim window is still open."""

    age_h: float
    # In the record whose claims' delays are weighed (the claim's category): its late filing
    # is the alternative's; a delivery of the seller's other categories (a shop's whole
    # record, `whole_record`) is read at the honest delays on both sides.
    weighed: bool = True
    # The part of a trial it is (`OrderTrials.share`): an item of a multi-item order is 1/m.
    share: float = 1.0


@dataclass(frozen=True, slots=True)
class OrderItem:
    """A return delivered to the seller whose order holds others of its delivered returns."""

    return_id: str
    order_id: str
    category: str | None
    delivered_at: datetime
    # Claimed by the event's time (a claim the seller's counts hold).
    claimed: bool


@dataclass(frozen=True, slots=True)
class OrderTrials:
    """A seller's multi-item orders as its claim-rate record weighs them: one trial each.

    The items of one order were sold, shipped and returned together, and are found faulty
    together (one box dropped, one batch bad, one buyer unhappy with all of it): their claims
    are not independent trials, and counted one by one an honest seller of multi-item orders
    reads as many claims in few deliveries. So each delivered item of an order of m is 1/m of a
    trial and its claim 1/m of a claim: the order is one trial whose outcome is the share of its
    items claimed. That share has the item's own claim rate as its mean whether the items'
    claims come together or apart, so the rate the test reads is unchanged and only the number
    of trials it holds is the orders' (an abuser claiming one item of each order claims at the
    same rate as claiming each of separate orders; it holds less evidence per claim, as an
    honest seller's claims of one order do)."""

    items: tuple[OrderItem, ...] = ()

    @classmethod
    def of(cls, items: Sequence[OrderItem]) -> OrderTrials:
        """The items of the orders with at least two of them (each return once)."""
        unique = {i.return_id: i for i in items}
        per_order = Counter(i.order_id for i in unique.values())
        return cls(tuple(i for i in unique.values() if per_order[i.order_id] > 1))

    @property
    def orders(self) -> int:
        return len({i.order_id for i in self.items})

    def share(self, return_id: str) -> float:
        """The part of a trial the return is: 1/m in an order of m delivered items, else 1."""
        of = {i.return_id: i.order_id for i in self.items}
        if return_id not in of:
            return 1.0
        return 1.0 / sum(1 for i in self.items if i.order_id == of[return_id])

    def read(
        self,
        k: float,
        n: float,
        categories: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> tuple[float, float]:
        """`k` claims in `n` deliveries (the counts, each item a trial) read by orders: the
        items in `categories` (None: all) delivered from `since` on weigh 1/m each."""
        per_order = Counter(i.order_id for i in self.items)
        claims_less = delivered_less = 0.0
        for i in self.items:
            if categories is not None and i.category not in categories:
                continue
            if since is not None and i.delivered_at < since:
                continue
            less = 1.0 - 1.0 / per_order[i.order_id]
            delivered_less += less
            if i.claimed:
                claims_less += less
        read_k = max(k - claims_less, 0.0)
        return read_k, max(n - delivered_less, read_k)


def open_windows_log_bf(
    k: float,
    late: int,
    n: float,
    opened: Sequence[OpenDelivery],
    spread: PeerSpread,
    s: Sequential,
    delays: HonestDelays,
    *,
    late_share: float | None,
    window_h: float,
    late_margin_h: float,
    timed: int | None = None,
) -> float:
    """The claim-rate sequential test's log Bayes factor on a seller's record read as it
    stands: `k` claims (`late` of them in the window's last `late_margin_h` hours) in `n`
    deliveries, of which `opened` are not claimed yet and still inside the `window_h` claim
    window.

    Counted whole, a delivery made yesterday is a trial without a claim, though most honest
    claims on it have not come yet (the market's claims' delays, `delays`), and most of a late
    filer's never do before the window's last hours. Here each open delivery is the share of
    a trial an honest claim would have shown by its age (G0) on the honest side, and on the
    alternative's, at rate q and late share lam, 1 - q ((1 - lam) G0 + lam U) of being still
    unclaimed (U: the share of the late hours passed). The late claims are weighed in the same
    likelihood: a claim lies in the late hours with probability `late_share` for an honest
    seller (its peers' share, at least the signs' floor) and lam + (1 - lam) `late_share` for
    the alternative, so the late sign is part of the mixture, not added on top (the caller
    leaves it out of the signs). `late_share` None (a share at which lateness is no sign,
    `SIGN_CEILING`) leaves only the honest delays' manner. The whole record's deliveries in
    other categories (`OpenDelivery.weighed` false) are read at G0 on both sides, and only
    the `timed` claims (default all `k`: the claim's category's) have their delays weighed.
    `k` and `n` may count parts of trials, as an open delivery may be one (`OrderTrials`)."""
    n = max(n, k)
    # The counters and the facts may disagree by a delivery at a window's edge: no more
    # open deliveries than unclaimed ones, the youngest kept (the likeliest counted).
    young: list[OpenDelivery] = []
    room = n - k
    for d in sorted(opened, key=lambda d: d.age_h):
        if d.share > room + 1e-9:
            break
        young.append(d)
        room -= d.share
    manners = LATE_FILERS if late_share is not None else ((0.0, 1.0),)
    # The claims' timing is weighed claim by claim (`timed` counts them, not their orders').
    timed = round(k) if timed is None else max(timed, 0)
    late = min(max(late, 0), timed)
    p0 = late_share if late_share is not None else 0.0
    timing = []
    for lam, weight in manners:
        if lam <= 0:
            timing.append((weight, 0.0))
        elif lam >= 1:
            timing.append((weight, -math.inf if timed > late else late * math.log(1 / p0)))
        else:
            timing.append(
                (
                    weight,
                    late * math.log(lam / p0 + 1 - lam) + (timed - late) * math.log1p(-lam),
                )
            )
    late_from = window_h - late_margin_h
    trials = []
    for d in young:
        g = delays.by(d.age_h)
        passed = min(max((d.age_h - late_from) / late_margin_h, 0.0), 1.0) if late_margin_h else 0.0
        trials.append(
            OpenTrial(
                honest=g,
                alternative=tuple(
                    (1 - lam) * g + lam * passed if d.weighed else g for lam, _ in manners
                ),
                share=d.share,
            )
        )
    return open_record_log_bf(k, n - k - sum(d.share for d in young), trials, spread, s, timing)


def high_value_odds(
    peer_dear_claims: int,
    peer_dear_delivered: int,
    peer_claims: int,
    peer_delivered: int,
    *,
    prior_claims: float = 5.0,
) -> float:
    """The odds of the category's ordinary sellers claiming a high-value delivery over their
    odds of claiming another (1: a claim is as likely on any item). Each rate is drawn
    towards the peers' overall rate by `prior_claims` claims' worth of deliveries, so a
    category with few high-value deliveries says about 1."""
    if peer_delivered <= 0 or peer_claims <= 0:
        return 1.0
    q = peer_claims / peer_delivered
    prior = prior_claims / q
    dear = (peer_dear_claims + prior_claims) / (peer_dear_delivered + prior)
    other_claims = max(peer_claims - peer_dear_claims, 0)
    other_delivered = max(peer_delivered - peer_dear_delivered, 0)
    other = (other_claims + prior_claims) / (other_delivered + prior)
    return (dear / max(1 - dear, 1e-6)) / (other / max(1 - other, 1e-6))


def _dear_claims_log_pmfs(
    dear_claims: int, claims: int, dear: int, delivered: int, odds: Sequence[float]
) -> list[float]:
    """log P(`dear_claims` of the `claims` fall on the seller's `dear` high-value deliveries
    of `delivered`), each dear delivery claimed at `odds` times the odds of another, for each
    of `odds`: Fisher's noncentral hypergeometric, which takes the seller's own mix of goods
    as it is. The support's central terms come by their ratios, once for every odds."""
    lo, hi = max(0, claims - (delivered - dear)), min(claims, dear)
    central = [0.0]
    for x in range(lo, hi):
        central.append(
            central[-1]
            + math.log((dear - x) * (claims - x))
            - math.log((x + 1) * (delivered - dear - claims + x + 1))
        )
    at = min(max(dear_claims, lo), hi) - lo
    out = []
    for o in odds:
        step = math.log(o)
        terms = [c + (lo + i) * step for i, c in enumerate(central)]
        top = max(terms)
        out.append(terms[at] - top - math.log(sum(math.exp(t - top) for t in terms)))
    return out


def high_value_log_bf(
    dear_claims: int,
    claims: int,
    dear_delivered: int,
    delivered: int,
    peer_odds: float,
    *,
    ordinary_weight: float = 0.8,
    odds: tuple[float, ...] = (3.0, 10.0),
) -> float:
    """log Bayes factor of `dear_claims` of a seller's `claims` falling on its
    `dear_delivered` high-value deliveries (of `delivered`), against an ordinary seller with
    the same deliveries.

    The baseline is the seller's own: given how many of its deliveries were dear and how many
    it claimed, which of them it claimed. An ordinary seller claims a dear delivery at the
    odds the category's ordinary sellers do (`peer_odds`, `high_value_odds`), so a seller of
    expensive goods is not suspicious for claiming on expensive goods, and a seller whose
    claims are most of its deliveries is weighed against the deliveries it did not claim. The
    alternative, as for the other signs (`signs_log_bf`): with `ordinary_weight` the claims
    fall as an ordinary seller's, otherwise at one of `odds` times those odds. Given the
    seller's deliveries and claim count, the honest population's distribution of its dear
    claims is exactly this one (Fisher's noncentral hypergeometric), whatever the seller's
    claim rate, so the factor is a likelihood ratio on which deliveries were claimed, and
    multiplied with the claim-rate test's (on how many) and the other signs' it is still one:
    Ville's bound holds for the product, to the approximation that a record read at every
    claim is one record. A seller with no dear delivery, or only dear ones, says nothing."""
    if claims <= 0 or dear_delivered <= 0 or dear_delivered >= delivered:
        return 0.0
    claims = min(claims, delivered)
    base = max(peer_odds, 1e-6)
    null, *alternatives = _dear_claims_log_pmfs(
        dear_claims, claims, dear_delivered, delivered, [base] + [base * w for w in odds]
    )
    terms = [math.log(ordinary_weight)]
    for alternative in alternatives:
        terms.append(math.log((1 - ordinary_weight) / len(odds)) + alternative - null)
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def _finding(
    code: str,
    test: RateTest,
    seller_id: str,
    t: Thresholds,
    what: str,
    *,
    min_events: int,
    delivered: int,
    min_delivered: float,
) -> Finding:
    contribution = contribution_from_p(test.p, t)
    numbers = test.numbers()
    enough = test.k >= min_events and delivered >= min_delivered
    if not enough:
        # A small seller's first few deliveries all claimed are as unlikely among honest
        # sellers as the p-value says, and there are many small sellers: the early-claims
        # look-alike. As for the sequential test (stats.Sequential.min_events), no alert and
        # no HIGH on fewer events, or on fewer deliveries than make one claim ordinary
        # (`min_deliveries`); the finding joins no Fisher combination either.
        contribution = min(contribution, BELOW_HIGH)
        numbers = numbers | {"too_few_events": 1}
    return Finding(
        code=code,
        detail=f"{what} {test.detail()}",
        contribution=contribution,
        pattern=PATTERN,
        entity_type="seller",
        entity_id=seller_id,
        numbers=numbers,
        alert=enough and test.p <= t.alpha_high,
        suggested_action=ACTION,
    )


# (code, what, numerator, denominator, prior rate) of each seller-level rate test.
RATES: tuple[tuple[str, str, str, str, float], ...] = (
    ("SELLER_CLAIM_RATE_HIGH", "claim rate", "claims", "delivered", 0.05),
    (
        "SELLER_HIGH_VALUE_CLAIMS",
        "high-value claim rate",
        "claims_high_value",
        "delivered_high_value",
        0.05,
    ),
    (
        "SELLER_MISSING_ITEM_WEIGHT_INTACT",
        "share of claims MISSING_ITEM with intact weight",
        "claims_missing_intact",
        "claims",
        0.05,
    ),
    (
        "SELLER_LATE_CLAIMS",
        "share of claims filed as the window closes",
        "claims_late",
        "claims",
        0.07,
    ),
)


def seller_findings(
    seller_id: str,
    own: Mapping[str, int],
    category: Mapping[str, int],
    t: Thresholds,
    *,
    peers: Mapping[str, tuple[int, int]] | None = None,
    min_events: int = 1,
    min_delivered: float = 0.0,
) -> list[Finding]:
    """Seller-level tests; `category` totals include the seller, whose counts are taken out.
    `peers`, when given, is the robust baseline per numerator metric (count, trials) of the
    category's other sellers, and replaces the category's pooled counts. A test counting
    fewer than `min_events` events, or of a seller with fewer than `min_delivered`
    deliveries, is MEDIUM at most and raises no alert."""

    def peer(num: str, den: str) -> tuple[int, int]:
        if peers is not None and num in peers:
            return peers[num]
        return category.get(num, 0) - own.get(num, 0), category.get(den, 0) - own.get(den, 0)

    tests = [
        (
            code,
            what,
            rate_test(own.get(num, 0), own.get(den, 0), *peer(num, den), t, prior_rate=prior),
        )
        for code, what, num, den, prior in RATES
    ]
    out = []
    for code, what, test in tests:
        f = _finding(
            code,
            test,
            seller_id,
            t,
            what,
            min_events=min_events,
            delivered=own.get("delivered", 0),
            min_delivered=min_delivered,
        )
        if f.contribution > 0:
            out.append(f)
    return out


def pooled_concentration(
    categories: Mapping[str, Sequence[tuple[int, int]]], t: Thresholds, *, prior_rate: float
) -> tuple[dict[str, RobustBaseline], float]:
    """Each category's robust baseline of sellers' (claims, deliveries), and how alike honest
    sellers are, estimated from every category's sellers together.

    One category holds a few dozen sellers, and where several planted sellers share one (two
    abusers, a ring, an evidence reuser: a third of its deliveries in a development world)
    they lift its rate and widen its spread until none of them stands out (a + b of 30-40
    where the world's honest sellers are at 376 and 622). Pooled over categories they are a
    small share. Sellers are standardised by their category's rate first (indirect
    standardisation, as agents are by their hub-mates): deliveries rescaled so that a seller
    running exactly at its category's rate runs at the market's, so categories that differ
    in their honest rate do not pass for a wide spread."""
    bases = {
        category: robust_baseline(list(peers), t, prior_rate=prior_rate)
        for category, peers in categories.items()
    }
    # Every seller of the market is a pair of counts, and sellers share their counts (most have
    # a few deliveries): the work below runs once per distinct pair of a category, each
    # standing for its sellers. The market's baseline counts the same pairs in the same order
    # of first appearance as a list of every seller would give it.
    distinct = {category: Counter(peers) for category, peers in categories.items()}
    total_k = sum(max(k, 0) * m for pairs in distinct.values() for (k, _), m in pairs.items())
    total_n = sum(max(n, 0) * m for pairs in distinct.values() for (_, n), m in pairs.items())
    reference = peer_rate(total_k, total_n, prior_rate, t.prior_strength)
    standardised: list[tuple[int, int]] = []
    for category, pairs in distinct.items():
        spread = bases[category].spread
        rate = spread.rate if spread is not None else reference
        for (k, n), m in pairs.items():
            if n > 0 or k > 0:
                standardised += [(k, max(round(n * rate / reference), k))] * m
    market = robust_baseline(standardised, t, prior_rate=prior_rate).spread
    concentration = market.concentration if market is not None else t.max_concentration
    return bases, concentration


def honest_population(
    baseline: RobustBaseline,
    peers: Sequence[tuple[int, int]],
    concentration: float,
    t: Thresholds,
    s: Sequential,
    *,
    prior_rate: float,
    rounds: int = 5,
) -> PeerSpread:
    """The honest sellers of one category a seller's sequential test weighs it against: the
    category's kept peers (`baseline`), less those whose own evidence is telling (a Bayes
    factor of 1/alpha_medium) against the market-wide spread (`pooled_concentration`), with
    that spread. Judged against the category's own spread, planted sellers that widened it
    hide each other; against the market's they leave, and the category's rate falls back to
    its ordinary sellers'. An honest peer leaves with probability at most alpha_medium, as
    in `stats.sequential_peers`."""
    # Sellers with the same counts are kept or left together: the tests run once per distinct
    # (claims, deliveries), a few dozen however many sellers, each standing for its sellers.
    kept = {(k, n): m for (k, n), m in Counter(peers).items() if n > 0 and baseline.keeps(k, n, t)}

    def rate_of(group: Mapping[tuple[int, int], int]) -> float:
        return peer_rate(
            sum(k * m for (k, _), m in group.items()),
            sum(n * m for (_, n), m in group.items()),
            prior_rate,
            t.prior_strength,
        )

    rate = rate_of(kept)
    telling = math.log(1 / s.alpha_medium)
    for _ in range(rounds):
        ordinary = {
            (k, n): m
            for (k, n), m in kept.items()
            if k == 0 or sequential_test(k, n, PeerSpread(rate, concentration), s).log_bf < telling
        }
        if len(ordinary) == len(kept):
            break
        kept, rate = ordinary, rate_of(ordinary)
    return PeerSpread(rate, concentration)


@dataclass(frozen=True, slots=True)
class WholeRecord:
    """A seller's claims and deliveries in every category it sells in whose honest population
    is known, and the honest rate its own mix of categories makes (`whole_record`)."""

    claims: int
    delivered: int
    rate: float
    # The categories counted, each with its honest sellers' rate.
    categories: tuple[tuple[str, float], ...]
    # How alike honest sellers' whole records are (`whole_records_concentration`); 0: not
    # read, the categories' pooled spread stands.
    concentration: float = 0.0


def whole_record(
    cells: Mapping[str, tuple[int, int]], rates: Mapping[str, float]
) -> WholeRecord | None:
    """The seller's record over all its categories (`cells`: its claims and deliveries per
    category), each delivery weighed by its category's honest rate (`rates`): indirect
    standardisation, as the pooled spread standardises sellers (`pooled_concentration`).

    A seller of many categories (a marketplace where sellers are shops, not specialists) holds
    a few deliveries in each; its claims, counted one category at a time, never reach the
    test's five events or its alert, however far above every category it claims. Summed, they
    are one record: an honest seller of the honest population claims about its categories'
    rates times its own factor on each, so its claims in all are about `rate` times that factor
    per delivery, `rate` the mean of its categories' rates weighed by its deliveries, and the
    sequential test of the whole record against `rate` with the pooled spread keeps its stated
    false-alarm rate (the sum of binomials of different rates is less spread than one binomial
    at their mean, so the null errs wide). An abuser at r times each category is at r times
    `rate`, the test's alternative. Where the seller sells in one category this is that
    category's record and rate. A category without an honest rate (no other seller there) is
    left out, with its claims: what is not weighed against an honest population says nothing."""
    kept = {
        category: (min(max(k, 0), n), n)
        for category, (k, n) in cells.items()
        if n > 0 and category in rates
    }
    if not kept:
        return None
    delivered = sum(n for _, n in kept.values())
    return WholeRecord(
        claims=sum(k for k, _ in kept.values()),
        delivered=delivered,
        rate=sum(n * rates[category] for category, (_, n) in kept.items()) / delivered,
        categories=tuple(sorted((category, rates[category]) for category in kept)),
    )


def telling_shops(
    sellers: Mapping[str, Mapping[str, tuple[int, int]]],
    rates: Mapping[str, float],
    concentration: float,
    s: Sequential,
) -> set[str]:
    """The shops (sellers of two or more categories with an honest rate) whose whole record
    (`whole_record`) is telling against the honest population: a Bayes factor of
    1/alpha_medium for the alternative, against their mix's rate with the categories' pooled
    spread, as `honest_population` tells a category's sellers.

    A shop abusing at 3x every category holds a few claims in each, never telling in one, so
    each category's honest population kept it, and its claims lifted the honest rate of every
    category it sells in. Read on its whole record it leaves them; an honest shop leaves with
    probability at most alpha_medium (the factor is a martingale under the honest
    population), as an honest seller leaves one category's. Sellers of one category are
    `honest_population`'s to tell, as before."""
    telling = math.log(1 / s.alpha_medium)
    out = set()
    for who, cells in sellers.items():
        record = whole_record(cells, rates)
        # A shop claiming at most its mix's rate is not telling and costs no test (its factor
        # stays under 1.8 at any rate and spread a + b of 5 or more, far from 20).
        if (
            record is None
            or len(record.categories) < 2
            or record.claims <= record.delivered * record.rate
        ):
            continue
        spread = PeerSpread(record.rate, concentration)
        if sequential_test(record.claims, record.delivered, spread, s).log_bf >= telling:
            out.add(who)
    return out


def whole_records_concentration(
    sellers: Sequence[Mapping[str, tuple[int, int]]],
    bases: Mapping[str, RobustBaseline],
    t: Thresholds,
    *,
    prior_rate: float,
) -> float:
    """How alike honest sellers are on their whole records (`whole_record`): each seller's
    (claims, deliveries) per category summed, its deliveries standardised by its categories'
    rates as `pooled_concentration` standardises one category's record.

    A seller claiming a little above its peers does so in every category it sells in, but a
    shop's few deliveries per category hide that: the spread read from the categories one
    seller at a time comes out narrower than the sellers' own (simulated, a + b read as 1,000
    where sellers were drawn at 120-200), and a test of the whole record against it would
    take an honest seller's own level for evidence. The whole record's test weighs against the
    wider of the two (`ClaimInputs.honest_sellers`)."""
    pairs = [(k, n) for cells in sellers for k, n in cells.values()]
    total_k = sum(max(k, 0) for k, _ in pairs)
    total_n = sum(max(n, 0) for _, n in pairs)
    reference = peer_rate(total_k, total_n, prior_rate, t.prior_strength)
    standardised: list[tuple[int, int]] = []
    for cells in sellers:
        k = sum(max(c, 0) for c, _ in cells.values())
        expected = 0.0
        for category, (_, n) in cells.items():
            base = bases.get(category)
            spread = base.spread if base is not None else None
            expected += max(n, 0) * (spread.rate if spread is not None else reference)
        if k > 0 or expected > 0:
            standardised.append((k, max(round(expected / reference), k)))
    market = robust_baseline(standardised, t, prior_rate=prior_rate).spread
    return market.concentration if market is not None else t.max_concentration


@dataclass(frozen=True, slots=True)
class FlaggedParties:
    """The other parties under an open alert whose fraud explains what happened to a return:
    buyers under a wrong/used alert, pickup agents and hubs under a pilferage alert, QC agents
    and hubs under a QC-contradiction alert (`explained_by`). `light_parcels`: every parcel
    delivered light is explained by its own weights, whoever handled it
    (`FRAUD_SELLER_LIGHT_PARCELS`)."""

    buyers: frozenset[str] = frozenset()
    pilfering_agents: frozenset[str] = frozenset()
    pilfering_hubs: frozenset[str] = frozenset()
    qc_agents: frozenset[str] = frozenset()
    qc_hubs: frozenset[str] = frozenset()
    light_parcels: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.light_parcels
            or self.buyers
            or self.pilfering_agents
            or self.pilfering_hubs
            or self.qc_agents
            or self.qc_hubs
        )


@dataclass(frozen=True, slots=True)
class SellerReturn:
    """One delivered return of the seller's as its record counts it (`features.service`: a
    delivery, and the claim on it if any, with the claim's signs as they were counted)."""

    buyer_id: str | None
    pickup_agent_id: str | None
    hubs: tuple[str, ...]
    lost_weight: bool  # the parcel arrived lighter than it left (an incident in transit)
    qc_passed: bool
    qc_agent_id: str | None
    qc_hub_id: str | None
    delivered_on: date
    dear: bool
    claimed_on: date | None = None
    missing_intact: bool = False
    late: bool = False
    # Claimed as a wrong or used item: what a QC pass contradicts.
    contradicts_qc: bool = False


def explained_by(r: SellerReturn, flagged: FlaggedParties) -> str | None:
    """Which flagged party's fraud explains this return, if any (None: the return is the
    seller's evidence like any other).

    A seller is not a claim abuser for claims another party's fraud caused: a wrong/used
    buyer's returns (every one of them, claimed or not), a parcel that lost weight in transit
    at a pickup agent or hub under a pilferage alert, a return whose QC pass was by an agent or
    hub under a QC-contradiction alert and claimed as the wrong or used item the pass
    contradicts. A buyer's and a pilferer's returns leave by who handled them and what
    happened on the way, not by whether the seller claimed: the returns left are ordinary
    trials of the seller's own rate, so its test's stated rate is kept, and a seller whose
    claims are its own loses nothing but a few trials. A QC pass leaves only with the claim
    that contradicts it: a QC hub passes a large share of every seller's returns, and all of
    them left out took a fifth of an abuser's record with them (an honest hub under a false QC
    alert in dev-alone world 101 took a goal abuser below the alert). Leaving out claimed
    trials only lowers a seller's evidence wherever the honest population's predictive rate
    for it lies below the alternative's, so it raises no alarm on an honest seller."""
    if r.buyer_id and r.buyer_id in flagged.buyers:
        return "buyer"
    if r.lost_weight and (
        (r.pickup_agent_id and r.pickup_agent_id in flagged.pilfering_agents)
        or any(h in flagged.pilfering_hubs for h in r.hubs)
    ):
        return "pilferage"
    if r.lost_weight and flagged.light_parcels:
        # Delivered light with no pilferer flagged: the partner's own scales say the parcel
        # lost weight on the way, so what the seller finds missing is the journey's, not its
        # claim rate's; read out of the seller's test and its peers' alike, claimed or not.
        return "weights"
    if (
        r.contradicts_qc
        and r.qc_passed
        and (
            (r.qc_agent_id and r.qc_agent_id in flagged.qc_agents)
            or (r.qc_hub_id and r.qc_hub_id in flagged.qc_hubs)
        )
    ):
        return "qc"
    return None


# The seller's counts that an explained return takes out of its record: the delivery, and its
# claim with the claim's signs.
EXPLAINED_METRICS = (
    "delivered",
    "delivered_high_value",
    "claims",
    "claims_high_value",
    "claims_missing_intact",
    "claims_late",
)


def explained_counts(
    returns: Sequence[SellerReturn], flagged: FlaggedParties, since: date, until: date
) -> dict[str, int]:
    """What the returns flagged parties explain add to the seller's window totals (days
    `since` to `until`, a delivery counted on its day and a claim on its own, as the counters
    count them)."""
    out: Counter[str] = Counter()
    for r in returns:
        if explained_by(r, flagged) is None:
            continue
        if since <= r.delivered_on <= until:
            out["delivered"] += 1
            out["delivered_high_value"] += r.dear
        if r.claimed_on is not None and since <= r.claimed_on <= until:
            out["claims"] += 1
            out["claims_high_value"] += r.dear
            out["claims_missing_intact"] += r.missing_intact
            out["claims_late"] += r.late
    return {metric: out[metric] for metric in EXPLAINED_METRICS if out[metric]}


def unexplained(counts: Mapping[str, int], explained: Mapping[str, int]) -> dict[str, int]:
    """The seller's counts without the returns flagged parties explain (clamped at 0: a
    return's delivery and claim may fall on either side of a window's edge)."""
    return {
        metric: max(0, n - explained.get(metric, 0)) if metric in EXPLAINED_METRICS else n
        for metric, n in counts.items()
    }


def explained_rate_factor(claims: int, delivered: int, explained: Mapping[str, int]) -> float:
    """How much the peers' claim rate falls without the returns other parties' fraud explains
    (`explained`, `explained_counts` of the category's other sellers) from their `claims` in
    `delivered`: a seller's record read without its explained returns is weighed against its
    peers read the same way. 1 where nothing is explained or the counts say nothing."""
    if claims <= 0 or delivered <= 0:
        return 1.0
    k = claims - explained.get("claims", 0)
    n = delivered - explained.get("delivered", 0)
    if k <= 0 or n <= 0:
        return 1.0
    return min(1.0, (k / n) / (claims / delivered))


def peers_scaled(
    peers: Mapping[str, tuple[int, int]] | None, factor: float
) -> dict[str, tuple[int, int]] | None:
    """The peers' robust baseline with their claim count scaled by `factor`
    (`explained_rate_factor`); the other metrics as they are."""
    if peers is None:
        return None
    out = dict(peers)
    if "claims" in out:
        k, n = out["claims"]
        out["claims"] = (round(k * factor), n)
    return out


# The findings on the seller's claim rate that a spell's end stands down (`after_spell`); the
# share tests (high-value claims, the claims' signs) are about what the claims are, not how
# many, and stay.
CLAIM_RATE_CODES = ("SELLER_CLAIM_RATE_HIGH", "SELLER_CLAIM_RATE_SEQUENTIAL")


def after_spell(
    findings: list[Finding], recent: SequentialTest, s: Sequential
) -> tuple[list[Finding], bool]:
    """The seller's claim-rate findings read against its recent weeks (`recent`: the same
    test on the claims and deliveries of the last few weeks alone), and whether those weeks
    prove the seller ordinary.

    A seller's whole record cannot tell a spell (its claims rising for a few weeks, then
    ordinary again) from sustained abuse: for most of a short record the spell *is* an
    abuser's rate, and a record that crossed the alert drains by a hair per ordinary delivery.
    Its recent weeks can: an abuser keeps claiming at its rate, so its recent record leans to
    the alternative; a seller whose spell is over shows an ordinary rate there. So the
    claim-rate findings are alert-worthy (and HIGH) only while the recent weeks lean towards
    abuse (a Bayes factor above 1), and the seller's flag is cleared once they favour an
    ordinary seller ten to one (`s.clear_at`, the clearing rule's own level; between the two
    an open flag stays and no new one is raised). Both only add conditions to the alert, so
    the stated false-alarm rate on honest sellers is unchanged; the price is an abuser's
    whose recent weeks happen to look ordinary, which at `s.clear_at` an abuser at the
    alternative's rate shows at a given look with probability at most `s.clear_at`."""
    if recent.log_bf > 0:
        return findings, False
    out = []
    for f in findings:
        if f.code in CLAIM_RATE_CODES and (f.alert or f.contribution > BELOW_HIGH):
            f = demoted(
                f,
                f"its recent weeks look ordinary: {recent.detail()}",
                {
                    "recent_count": recent.k,
                    "recent_trials": recent.n,
                    "recent_log_bayes_factor": round(recent.log_bf, 3),
                },
            )
        out.append(f)
    return out, recent.log_bf <= math.log(s.clear_at)
