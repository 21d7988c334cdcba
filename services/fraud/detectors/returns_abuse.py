"""Wrong or used returns by a buyer: a buyer named by `WRONG_ITEM`/`USED_ITEM`/`MISSING_ITEM`
claims far more often than buyers at large, across several sellers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import (
    PeerSpread,
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


def buyer_findings(
    buyer_id: str,
    own: Mapping[str, int],
    peers: Mapping[str, int],
    distinct_sellers: int,
    t: Thresholds,
    spread: PeerSpread | None = None,
) -> list[Finding]:
    """`peers`: the other buyers' totals, the buyer's own counts already left out. `spread`:
    how much honest buyers differ, measured on them (robust baseline); then the tail is read
    under that honest population instead of at the tolerance null's twice the peers' rate.

    Buyers have a handful of returns each: a buyer named on four of six, by several sellers,
    is at p of about 3e-5 among honest buyers alike, but 4e-4 at twice their rate, and the
    2x allowance, a guess at how much honest entities differ, lost most moderate wrong/used
    buyers (four or five named claims each). Measured, the spread of honest buyers is what it
    is; where they differ widely, the test is stricter by itself."""
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
            code="BUYER_WRONG_USED_RATE_HIGH",
            detail=f"named in claims {test.detail()}, by {distinct_sellers} sellers",
            contribution=contribution,
            pattern=PATTERN,
            entity_type="buyer",
            entity_id=buyer_id,
            numbers=numbers,
            alert=contribution >= 0.8,
            suggested_action=ACTION,
        )
    ]
