"""QC contradictions: `QC_PASSED` at pickup followed by a wrong/used/missing-item claim,
concentrated on one agent (or hub) compared with its peers."""

from __future__ import annotations

from collections.abc import Mapping

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import Thresholds, contribution_from_p, rate_test

PATTERN_PREFIX = "QC_CONTRADICTION_"  # + the entity type: AGENT or HUB
PRIOR_RATE = 0.03
ACTION = {
    "agent": "Re-train or replace the agent; require photo proof with every QC pass.",
    "hub": "Spot-check QC passes at this hub; compare QC photos with seller evidence.",
}


def qc_findings(
    entity_type: str, entity_id: str, own: Mapping[str, int], peers: Mapping[str, int],
    t: Thresholds,
) -> list[Finding]:
    """`peers`: the other entities' totals, the entity's own counts already left out."""
    test = rate_test(
        own.get("qc_contradictions", 0), own.get("qc_passed", 0),
        peers.get("qc_contradictions", 0), peers.get("qc_passed", 0), t, prior_rate=PRIOR_RATE,
    )
    contribution = contribution_from_p(test.p, t)
    if contribution <= 0:
        return []
    return [Finding(
        code=f"{entity_type.upper()}_QC_CONTRADICTION_RATE_HIGH",
        detail=f"QC passes later contradicted by claims {test.detail()}",
        contribution=contribution, pattern=f"{PATTERN_PREFIX}{entity_type.upper()}",
        entity_type=entity_type, entity_id=entity_id, numbers=test.numbers(),
        alert=test.p <= t.alpha_high, suggested_action=ACTION[entity_type],
    )]
