"""Wrong or used returns by a buyer: a buyer named by `WRONG_ITEM`/`USED_ITEM`/`MISSING_ITEM`
claims far more often than buyers at large, across several sellers."""

from __future__ import annotations

from collections.abc import Mapping

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import Thresholds, contribution_from_p, rate_test

PATTERN = "WRONG_USED_RETURNS"
PRIOR_RATE = 0.03
ACTION = "Require QC at pickup for this buyer's returns and recover refunds on confirmed claims."
NAMING_CLAIMS = frozenset({"WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"})


def buyer_findings(
    buyer_id: str,
    own: Mapping[str, int],
    peers: Mapping[str, int],
    distinct_sellers: int,
    t: Thresholds,
) -> list[Finding]:
    """`peers`: the other buyers' totals, the buyer's own counts already left out."""
    test = rate_test(
        own.get("named_claims", 0),
        own.get("delivered", 0),
        peers.get("named_claims", 0),
        peers.get("delivered", 0),
        t,
        prior_rate=PRIOR_RATE,
    )
    contribution = contribution_from_p(test.p, t)
    if contribution <= 0:
        return []
    if distinct_sellers < 2:
        # One seller naming one buyer is a dispute between two parties (or collusion), not a
        # buyer abusing the network: keep it below HIGH.
        contribution = min(contribution, 0.79)
    numbers = test.numbers() | {"distinct_sellers": distinct_sellers}
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
