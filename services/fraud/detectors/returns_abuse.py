"""Wrong or used returns by a buyer: a buyer named by `WRONG_ITEM`/`USED_ITEM`/`MISSING_ITEM`
claims far more often than buyers at large, across several sellers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import sequential_findings, stronger_of
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    SequentialTest,
    Thresholds,
    beta_binomial_sf,
    contribution_from_p,
    rate_test,
)

PATTERN = "WRONG_USED_RETURNS"
PRIOR_RATE = 0.03
ACTION = "Require QC at pickup for this buyer's returns and recover refunds on confirmed claims."
NAMING_CLAIMS = frozenset({"WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"})
# No HIGH (and no alert) on fewer named claims: a marketplace has thousands of honest buyers,
# and three claims on a buyer's three returns happens to a few of them by chance (about 5e-5
# each at a 3.6 % rate); "repeatedly named" starts at the fourth.
MIN_NAMED = 4
RATE_CODE = "BUYER_WRONG_USED_RATE_HIGH"
SEQUENTIAL_CODE = "BUYER_WRONG_USED_SEQUENTIAL"
# The sequential test's alternative for a buyer: named 8 times as often as honest buyers, or 16
# or 32 times (prior weights 0.5, 0.3, 0.2). A buyer who returns wrong or used items has a
# large share of its few returns named (8-50x buyers at large), not the 2.5x of a seller's
# claim rate or a hub's losses, whose entities have hundreds of trials: an alternative at 2.5x
# fits four named claims in six returns hardly better than the honest population does.
BUYER_SEQUENTIAL = Sequential(ratio=8.0, stronger=((16.0, 0.3), (32.0, 0.2)), min_events=MIN_NAMED)


@lru_cache(maxsize=8)
def buyer_sequential(shared: Sequential, alpha: float) -> Sequential:
    """The buyer's sequential test: its own alternative and guard (`BUYER_SEQUENTIAL`), the
    shared MEDIUM level, clearing level and honest spread bound, alerting at a Bayes factor of
    1/`alpha`.
    One object per setting (cached): the test's alternatives are worked out once per object
    (`stats._alternatives`), and a buyer is tested on every claim naming it."""
    return replace(
        BUYER_SEQUENTIAL,
        alpha=alpha,
        alpha_medium=shared.alpha_medium,
        clear_at=shared.clear_at,
        max_concentration=shared.max_concentration,
    )


@dataclass(frozen=True, slots=True)
class BuyerEvidence:
    """A buyer's wrong/used findings, and its sequential test when one was read: what decides
    whether an open alert on the buyer is cleared (`sequential.clears`)."""

    findings: list[Finding]
    sequential: SequentialTest | None


def buyer_findings(
    buyer_id: str,
    own: Mapping[str, int],
    peers: Mapping[str, int],
    distinct_sellers: int,
    t: Thresholds,
    spread: PeerSpread | None = None,
    s: Sequential | None = None,
) -> list[Finding]:
    """`peers`: the other buyers' totals, the buyer's own counts already left out. `spread`:
    how much honest buyers differ, measured on them (robust baseline); then the tail is read
    under that honest population instead of at the tolerance null's twice the peers' rate.
    `s` (with `spread`): the buyer's sequential test (`buyer_sequential`), read beside the
    rate test; the stronger of the two readings stays.

    Buyers have a handful of returns each: a buyer named on four of six, by several sellers,
    is at p of about 3e-5 among honest buyers alike, but 4e-4 at twice their rate, and the
    2x allowance, a guess at how much honest entities differ, lost most moderate wrong/used
    buyers (four or five named claims each). Measured, the spread of honest buyers is what it
    is; where they differ widely, the test is stricter by itself.

    The rate test's p <= alpha_high is read again at every claim naming the buyer, so the
    share of honest buyers it ever alerts is not stated. The sequential test states it: under
    the honest population its Bayes factor is a martingale, so at most `s.alpha` of honest
    buyers ever reach the alert in a window, however often they are looked at (Ville). It also
    weighs what a wrong/used buyer looks like (named several times as often as buyers at
    large) instead of only how unlikely the count is, which finds buyers with four or five
    named claims in six to ten returns that the rate test leaves at p of 1e-4 to 1e-3."""
    return buyer_evidence(buyer_id, own, peers, distinct_sellers, t, spread, s).findings


def buyer_evidence(
    buyer_id: str,
    own: Mapping[str, int],
    peers: Mapping[str, int],
    distinct_sellers: int,
    t: Thresholds,
    spread: PeerSpread | None = None,
    s: Sequential | None = None,
) -> BuyerEvidence:
    """`buyer_findings`, with the buyer's sequential test kept beside them (None without
    `spread` and `s`): a buyer flagged on a few early claims is re-examined on the same test
    as its ordinary returns accumulate, as sellers, hubs and agents are."""
    findings = _rate_findings(buyer_id, own, peers, distinct_sellers, t, spread)
    if spread is None or s is None:
        return BuyerEvidence(findings, None)
    test, found = _sequential_findings(buyer_id, own, distinct_sellers, spread, s)
    findings += found
    return BuyerEvidence(stronger_of(findings, RATE_CODE, SEQUENTIAL_CODE), test)


def _rate_findings(
    buyer_id: str,
    own: Mapping[str, int],
    peers: Mapping[str, int],
    distinct_sellers: int,
    t: Thresholds,
    spread: PeerSpread | None,
) -> list[Finding]:
    k, n = own.get("named_claims", 0), own.get("delivered", 0)
    test = rate_test(
        k, n, peers.get("named_claims", 0), peers.get("delivered", 0), t, prior_rate=PRIOR_RATE
    )
    extra: dict[str, float | int | str] = {}
    if spread is not None:
        test = replace(test, null=spread.rate, p=beta_binomial_sf(k, n, spread))
        extra["peer_concentration"] = round(spread.concentration, 1)
    contribution = contribution_from_p(test.p, t)
    if contribution <= 0:
        return []
    if distinct_sellers < 2 or k < MIN_NAMED:
        # One seller naming one buyer is a dispute between two parties (or collusion), not a
        # buyer abusing the network: keep it below HIGH. So are a few claims, however few
        # the buyer's returns.
        contribution = min(contribution, 0.79)
    numbers = test.numbers() | {"distinct_sellers": distinct_sellers} | extra
    return [
        Finding(
            code=RATE_CODE,
            detail=(
                f"named in claims or refused at pickup {test.detail()}, "
                f"by {distinct_sellers} sellers"
            ),
            contribution=contribution,
            pattern=PATTERN,
            entity_type="buyer",
            entity_id=buyer_id,
            numbers=numbers,
            alert=contribution >= 0.8,
            suggested_action=ACTION,
        )
    ]


def _sequential_findings(
    buyer_id: str,
    own: Mapping[str, int],
    distinct_sellers: int,
    spread: PeerSpread,
    s: Sequential,
) -> tuple[SequentialTest, list[Finding]]:
    """The buyer's named claims per delivered return, weighed sequentially against the honest
    buyers' spread, and the test; no alert (nor HIGH) on fewer than `MIN_NAMED` named claims
    (`s.min_events`) or from one seller alone, as for the rate test."""
    k, n = own.get("named_claims", 0), own.get("delivered", 0)
    test, found = sequential_findings(
        code=SEQUENTIAL_CODE,
        what="named in claims or refused at pickup",
        pattern=PATTERN,
        entity_type="buyer",
        entity_id=buyer_id,
        k=k,
        n=n,
        spread=spread,
        s=s,
        action=ACTION,
    )
    out = []
    for f in found:
        numbers = f.numbers | {"distinct_sellers": distinct_sellers}
        detail = f"{f.detail}, by {distinct_sellers} sellers"
        if distinct_sellers < 2:
            f = replace(f, alert=False, contribution=min(f.contribution, 0.79))
        out.append(replace(f, numbers=numbers, detail=detail))
    return test, out
