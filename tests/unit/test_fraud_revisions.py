"""A revision's score: the alert's finding replaces weaker reasons of its kind, carried risk
stays capped (pure logic; the database path is in tests/integration/test_fraud_revisions.py)."""

from __future__ import annotations

from datetime import timedelta

from services.fraud.detectors.findings import Finding, band_of
from services.fraud.scoring.base import ScoringConfig
from services.fraud.scoring.revisions import revised_score, selector_for
from services.fraud.settings import FraudSettings
from shared.events import FraudBand, ReasonCode

BUYER = "buyer:B-1"
FINDING = Finding(
    "BUYER_WRONG_USED_RATE_HIGH",
    "named by 6 sellers",
    0.82,
    "WRONG_USED_RETURNS",
    "buyer",
    "B-1",
    {"p_value": 5e-5},
    alert=True,
)


def reason(code: str, c: float, entity: str = BUYER) -> ReasonCode:
    return ReasonCode(code=code, detail="", contribution=c, numbers={"entity": entity})


def test_the_finding_replaces_its_weaker_self_and_makes_the_event_high() -> None:
    old = [reason("BUYER_WRONG_USED_RATE_HIGH", 0.29), reason("SELLER_CLAIM_LATE", 0.1)]
    score, kept = revised_score(old, FINDING)
    assert [r.code for r in kept] == ["SELLER_CLAIM_LATE"]
    assert band_of(score) is FraudBand.HIGH
    assert 0.82 < score < 0.85  # 1 - 0.18 * 0.9, not the old 0.29 counted twice


def test_carried_risk_counts_as_much_as_its_strongest_part() -> None:
    old = [
        reason("HUB_RISK_ELEVATED", 0.3, "hub:H-1"),
        reason("SELLER_RISK_ELEVATED", 0.3, "seller:S-1"),
    ]
    weak = Finding("X", "", 0.2, "WRONG_USED_RETURNS", "buyer", "B-1")
    score, _ = revised_score(old, weak)
    assert abs(score - (1 - 0.8 * 0.7)) < 1e-3


def test_every_pattern_but_evidence_reuse_has_events_to_revise() -> None:
    def f(pattern: str, etype: str, numbers: dict[str, str] | None = None) -> Finding:
        return Finding("C", "", 0.9, pattern, etype, "E-1", dict(numbers or {}))

    for pattern, etype in (
        ("CLAIM_ABUSE", "seller"),
        ("WRONG_USED_RETURNS", "buyer"),
        ("PILFERAGE_HUB", "hub"),
        ("PILFERAGE_AGENT", "agent"),
        ("QC_CONTRADICTION_AGENT", "agent"),
        ("QC_CONTRADICTION_HUB", "hub"),
        ("COLLUSION_SHARED_IDENTITY", "buyer"),
    ):
        assert selector_for(f(pattern, etype)) is not None, pattern
    assert selector_for(f("COLLUSION_SELLER_BUYER", "seller", {"buyer_id": "B-2"})) is not None
    assert selector_for(f("COLLUSION_AGENT_BUYER", "agent")) is None  # no buyer named
    assert selector_for(f("EVIDENCE_REUSE", "seller")) is None
    pilferage = selector_for(f("PILFERAGE_HUB", "hub"))
    assert pilferage is not None and pilferage.subject_type.endswith("return_shipment_event.v1")


def test_an_open_alert_is_about_the_events_its_revisions_would_select() -> None:
    from services.fraud.models import ReturnFacts
    from services.fraud.scoring.revisions import CLAIM_TYPE, SCAN_TYPE, is_about

    def facts(**kw: object) -> ReturnFacts:
        base: dict[str, object] = {
            "return_id": "R-1",
            "seller_id": "S-1",
            "buyer_id": "B-1",
            "hubs": ["H-1", "H-2"],
            "pickup_agent_id": "AG-1",
            "qc_agent_id": "AG-1",
            "qc_hub_id": "H-1",
            "qc_result": "PASSED",
            "terminal": "DELIVERED_TO_SELLER",
            "incident": False,
            "claim_type": "WRONG_ITEM",
            "pair_counted": True,
        }
        return ReturnFacts(**(base | kw))

    def about(
        pattern: str,
        etype: str,
        eid: str,
        f: ReturnFacts,
        *,
        buyer: str | None = None,
        subject: str = CLAIM_TYPE,
        terminal: bool = False,
    ) -> bool:
        return is_about(pattern, etype, eid, buyer, f, subject, terminal_scan=terminal)

    intact, light = facts(), facts(incident=True)
    assert about("CLAIM_ABUSE", "seller", "S-1", intact)
    assert not about("CLAIM_ABUSE", "seller", "S-1", light)  # the partner's matter
    assert not about("CLAIM_ABUSE", "seller", "S-2", intact)
    assert not about("CLAIM_ABUSE", "seller", "S-1", intact, subject=SCAN_TYPE)
    assert about("WRONG_USED_RETURNS", "buyer", "B-1", intact)
    assert not about("WRONG_USED_RETURNS", "buyer", "B-1", facts(claim_type="DAMAGED"))
    assert about("COLLUSION_SELLER_BUYER", "seller", "S-1", intact, buyer="B-1")
    assert not about("COLLUSION_SELLER_BUYER", "seller", "S-1", intact, buyer="B-9")
    assert about("COLLUSION_AGENT_BUYER", "agent", "AG-1", intact, buyer="B-1")
    # A ring's claim on a parcel the partner harmed is the partner's matter, as the seller's
    # and the buyer's are: no ring alert lifts it.
    assert not about("COLLUSION_SELLER_BUYER", "seller", "S-1", light, buyer="B-1")
    assert not about("COLLUSION_AGENT_BUYER", "agent", "AG-1", light, buyer="B-1")
    assert about("COLLUSION_SHARED_IDENTITY", "buyer", "B-1", intact)
    assert not about("COLLUSION_SHARED_IDENTITY", "buyer", "B-1", light)
    assert about("QC_CONTRADICTION_AGENT", "agent", "AG-1", intact)
    assert about("QC_CONTRADICTION_HUB", "hub", "H-1", intact)
    assert not about("QC_CONTRADICTION_AGENT", "agent", "AG-1", facts(qc_result="FAILED"))
    # Pilferage: the incident itself (the terminal scan), at any hub the parcel passed.
    assert about("PILFERAGE_HUB", "hub", "H-2", light, subject=SCAN_TYPE, terminal=True)
    assert about("PILFERAGE_AGENT", "agent", "AG-1", light, subject=SCAN_TYPE, terminal=True)
    assert not about("PILFERAGE_HUB", "hub", "H-2", intact, subject=SCAN_TYPE, terminal=True)
    assert not about("PILFERAGE_HUB", "hub", "H-2", light, subject=SCAN_TYPE, terminal=False)
    assert not about("EVIDENCE_REUSE", "seller", "S-1", intact)


def test_an_alert_revises_the_window_its_detector_counted_at_most_the_cap() -> None:
    config = ScoringConfig.from_settings(FraudSettings(long_window_days=120, short_window_days=56))
    assert config.revision_window("WRONG_USED_RETURNS") == timedelta(days=120)
    assert config.revision_window("QC_CONTRADICTION_AGENT") == timedelta(days=120)
    assert config.revision_window("PILFERAGE_HUB") == timedelta(days=56)
    capped = ScoringConfig.from_settings(FraudSettings(revision_window_days=7))
    assert capped.revision_window("CLAIM_ABUSE") == timedelta(days=7)
    assert capped.revision_window("PILFERAGE_AGENT") == timedelta(days=7)
    off = ScoringConfig.from_settings(FraudSettings(revision_window_days=0))
    assert off.revision_window("CLAIM_ABUSE") == timedelta(0)


def test_only_a_cleared_sellers_or_buyers_alert_takes_its_high_back() -> None:
    # A hub's or agent's evidence passes between them (a hub cleared because its excess is its
    # agents'; an agent cleared while a second pilferer lifts its mates' rate): their clearing
    # says "not this one", not "nothing happened", and the incidents stay HIGH. A seller's claim
    # rate has no one to pass to, nor has a wrong/used buyer's named-claim rate.
    from services.fraud.scoring.revisions import lowers_on_clearing

    assert lowers_on_clearing("CLAIM_ABUSE")
    assert lowers_on_clearing("WRONG_USED_RETURNS")
    for pattern in (
        "PILFERAGE_HUB",
        "PILFERAGE_AGENT",
        "QC_CONTRADICTION_HUB",
        "QC_CONTRADICTION_AGENT",
    ):
        assert not lowers_on_clearing(pattern)


def test_an_agents_pilferage_alert_is_about_the_claims_on_the_incidents_it_picked_up() -> None:
    """A claim carries an agent's pilferage alert when its return came to harm (a weight drop, a
    declared loss or transit damage) after the agent picked it up, wherever the harm was found;
    never a hub's alert (`lifts_claims`: a hub's false alert would lift every claim of its
    incidents)."""
    from services.fraud.features.custody import END, PICKUP, SCAN
    from services.fraud.models import ReturnFacts
    from services.fraud.scoring.revisions import CLAIM_TYPE, is_about, lifts_claims

    def facts(scans: list[list[object]] | None, **kw: object) -> ReturnFacts:
        base: dict[str, object] = {
            "return_id": "R-1",
            "seller_id": "S-1",
            "hubs": ["H-1", "H-2"],
            "pickup_agent_id": "AG-1",
            "pickup_weight_g": 1000,
            "terminal": "DELIVERED_TO_SELLER",
            "delivered_weight_g": 400,
            "incident": True,
            "claim_type": "MISSING_ITEM",
            "custody": scans,
        }
        return ReturnFacts(**(base | kw))

    def about(f: ReturnFacts) -> set[str]:
        return {
            eid
            for etype, eid in (("hub", "H-1"), ("hub", "H-2"), ("agent", "AG-1"), ("agent", "AG-2"))
            if is_about(
                f"PILFERAGE_{etype.upper()}", etype, eid, None, f, CLAIM_TYPE, terminal_scan=False
            )
        }

    def seen(hub: str | None, grams: int | None, kind: str, day: int) -> list[object]:
        return [f"2026-03-0{day}T10:00:00+00:00", hub, grams, kind]

    assert lifts_claims("PILFERAGE_AGENT") and not lifts_claims("PILFERAGE_HUB")
    # Weighed short at delivery: the pickup agent's incident, never a hub's claim to carry.
    two_hubs = [
        seen(None, 1000, PICKUP, 1),
        seen("H-1", None, SCAN, 2),
        seen("H-2", 400, END, 3),
    ]
    assert about(facts(two_hubs)) == {"AG-1"}
    # A loss declared at a hub is the pickup agent's incident too, as pilferage counts it.
    lost = [*two_hubs[:2], seen("H-1", None, END, 3)]
    assert about(facts(lost, terminal="LOST", delivered_weight_g=None)) == {"AG-1"}
    # Delivered intact: no one's incident, whatever alert stands on its agent; the stored flag
    # a late pickup weight undid does not count (`incident_after_pickup` reads the weights).
    assert about(facts(two_hubs, delivered_weight_g=990, incident=False)) == set()
    assert about(facts(two_hubs, delivered_weight_g=990, incident=True)) == set()
    # A return first seen before its scans were kept: still its pickup agent's.
    assert about(facts(None)) == {"AG-1"}
    # The claim's other scored events carry it too: a case's band is its latest assessment's.
    assert is_about(
        "PILFERAGE_AGENT",
        "agent",
        "AG-1",
        None,
        facts(two_hubs),
        "disputedesk.intake.evidence_added.v1",
        terminal_scan=False,
    )
    # Its terminal scan is not its claim: the scan's own rule stands (`test_an_open_alert_...`).
    assert not is_about(
        "PILFERAGE_HUB",
        "hub",
        "H-1",
        None,
        facts(two_hubs, claim_type=None),
        CLAIM_TYPE,
        terminal_scan=False,
    )


def test_a_cleared_pilferage_alert_takes_back_only_the_claims_it_lifted() -> None:
    from services.fraud.detectors.findings import Finding
    from services.fraud.scoring.revisions import at_pilferer, lowers_claims_on_clearing

    assert not lowers_claims_on_clearing("PILFERAGE_HUB")  # it lifted none
    assert lowers_claims_on_clearing("PILFERAGE_AGENT")
    assert not lowers_claims_on_clearing("CLAIM_ABUSE")
    sequential = Finding(
        "AGENT_PILFERAGE_SEQUENTIAL",
        "factor 300",
        0.7,
        "PILFERAGE_AGENT",
        "agent",
        "AG-1",
        alert=True,
    )
    said = at_pilferer(sequential)
    assert said.code == "PILFERAGE_AT_AGENT" and "agent AG-1" in said.detail
    assert said.contribution == 0.8 and not said.alert  # HIGH on its own, raises nothing
    assert (said.pattern, said.entity_type, said.entity_id) == ("PILFERAGE_AGENT", "agent", "AG-1")
