"""A revision's score: the alert's finding replaces weaker reasons of its kind, carried risk
stays capped (pure logic; the database path is in tests/integration/test_fraud_revisions.py)."""

from __future__ import annotations

from services.fraud.detectors.findings import Finding, band_of
from services.fraud.scoring.revisions import revised_score, selector_for
from shared.events import FraudBand, ReasonCode

BUYER = "buyer:B-1"
FINDING = Finding("BUYER_WRONG_USED_RATE_HIGH", "named by 6 sellers", 0.82,
                  "WRONG_USED_RETURNS", "buyer", "B-1", {"p_value": 5e-5}, alert=True)


def reason(code: str, c: float, entity: str = BUYER) -> ReasonCode:
    return ReasonCode(code=code, detail="", contribution=c, numbers={"entity": entity})


def test_the_finding_replaces_its_weaker_self_and_makes_the_event_high() -> None:
    old = [reason("BUYER_WRONG_USED_RATE_HIGH", 0.29), reason("SELLER_CLAIM_LATE", 0.1)]
    score, kept = revised_score(old, FINDING)
    assert [r.code for r in kept] == ["SELLER_CLAIM_LATE"]
    assert band_of(score) is FraudBand.HIGH
    assert 0.82 < score < 0.85  # 1 - 0.18 * 0.9, not the old 0.29 counted twice


def test_carried_risk_counts_as_much_as_its_strongest_part() -> None:
    old = [reason("HUB_RISK_ELEVATED", 0.3, "hub:H-1"), reason("SELLER_RISK_ELEVATED", 0.3,
                                                                 "seller:S-1")]
    weak = Finding("X", "", 0.2, "WRONG_USED_RETURNS", "buyer", "B-1")
    score, _ = revised_score(old, weak)
    assert abs(score - (1 - 0.8 * 0.7)) < 1e-3


def test_every_pattern_but_evidence_reuse_has_events_to_revise() -> None:
    def f(pattern: str, etype: str, numbers: dict[str, str] | None = None) -> Finding:
        return Finding("C", "", 0.9, pattern, etype, "E-1", dict(numbers or {}))

    for pattern, etype in (("CLAIM_ABUSE", "seller"), ("WRONG_USED_RETURNS", "buyer"),
                           ("PILFERAGE_HUB", "hub"), ("PILFERAGE_AGENT", "agent"),
                           ("QC_CONTRADICTION_AGENT", "agent"), ("QC_CONTRADICTION_HUB", "hub"),
                           ("COLLUSION_SHARED_IDENTITY", "buyer")):
        assert selector_for(f(pattern, etype)) is not None, pattern
    assert selector_for(f("COLLUSION_SELLER_BUYER", "seller", {"buyer_id": "B-2"})) is not None
    assert selector_for(f("COLLUSION_AGENT_BUYER", "agent")) is None  # no buyer named
    assert selector_for(f("EVIDENCE_REUSE", "seller")) is None
    pilferage = selector_for(f("PILFERAGE_HUB", "hub"))
    assert pilferage is not None and pilferage.subject_type.endswith("return_shipment_event.v1")
