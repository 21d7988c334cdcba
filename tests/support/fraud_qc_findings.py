"""A hub carried by two of its agents, as the QC-contradiction unit tests find it without a
database: development world 101's H-s101-07 at its alert, 8 contradicting buyers in 33 passes
against hubs at 2.35 %, its two planted agents at 3 of 9 and 3 of 10, the other 14 passes
naming no agent."""

from __future__ import annotations

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import sequential_findings
from services.fraud.detectors.stats import PeerSpread
from services.fraud.scoring.base import default_config

S = default_config().sequential
H07 = "H-07"
H07_SPREAD = PeerSpread(0.0235, 1000.0)
H07_AGENTS = {"AG-0701": (3, 9), "AG-0702": (3, 10)}


def h07_hub_findings() -> list[Finding]:
    """The hub's own sequential QC-contradiction findings, as scoring finds them before its
    agents are looked at."""
    _, found = sequential_findings(
        code="HUB_QC_CONTRADICTION_SEQUENTIAL",
        what="QC passes later contradicted by claims",
        pattern="QC_CONTRADICTION_HUB",
        entity_type="hub",
        entity_id=H07,
        k=8,
        n=33,
        spread=H07_SPREAD,
        s=S,
        action=qc.ACTION["hub"],
    )
    return found


def h07_carriers() -> qc.Carriers:
    """The two agents found carrying the hub's excess."""
    carriers = qc.agents_carrying_hub(8, 33, H07_AGENTS, H07_SPREAD, S)
    assert carriers is not None
    return carriers
