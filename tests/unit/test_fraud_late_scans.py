"""Whether a scan that reached fraud after its return's claim changes the claim's assessment
(`revisions.revised_claim`), and which handlers it newly names (`service.newly_named`)."""

from __future__ import annotations

from typing import Any

from services.fraud.features.service import ScansRead
from services.fraud.scoring.revisions import revised_claim
from services.fraud.scoring.service import newly_named
from shared.events import FraudBand, ReasonCode

SELLER = "seller:S-1"


def reason(code: str, contribution: float, **numbers: Any) -> ReasonCode:
    return ReasonCode(code=code, detail=code.lower(), contribution=contribution, numbers=numbers)


QC_FLOOR = reason(
    "AGENT_QC_CONTRADICTION_RATE_HIGH",
    0.9,
    pattern="QC_CONTRADICTION_AGENT",
    entity="agent:AG-QC",
    alert_id="a-qc",
)
BUYER_WEAK = reason("BUYER_WRONG_USED_SEQUENTIAL", 0.29, pattern="WRONG_USED_RETURNS")


def test_a_late_fact_that_leaves_the_band_where_it_is_revises_nothing() -> None:
    # A late delivery scan moves the score within LOW: no revision (no storm of them).
    assert revised_claim("LOW", [BUYER_WEAK], 0.35, [BUYER_WEAK]) is None
    assert revised_claim("MEDIUM", [BUYER_WEAK], 0.62, [BUYER_WEAK]) is None


def test_a_late_qc_pass_under_an_open_alert_raises_the_claim() -> None:
    revised = revised_claim("LOW", [BUYER_WEAK], 0.93, [QC_FLOOR, BUYER_WEAK], {"a-qc"})
    assert revised is not None
    assert revised.band is FraudBand.HIGH and revised.score == 0.93
    assert [r.code for r in revised.reasons] == [QC_FLOOR.code, BUYER_WEAK.code]


def test_reuse_found_on_the_claims_evidence_stays_when_the_fresh_run_cannot_see_it() -> None:
    # Evidence is read once, as it arrives: the fresh run never finds the reuse again.
    reuse = reason("EVIDENCE_REUSED_EXACT", 0.95, pattern="EVIDENCE_REUSE", entity=SELLER)
    assert revised_claim("HIGH", [reuse, BUYER_WEAK], 0.3, [BUYER_WEAK]) is None


def test_a_closed_alerts_revision_stays_but_an_open_one_is_the_fresh_runs_to_judge() -> None:
    raised = reason(
        "SELLER_CLAIM_RATE_SEQUENTIAL",
        0.85,
        pattern="CLAIM_ABUSE",
        entity=SELLER,
        alert_id="a-seller",
        revised_on_event_time="2026-11-30T10:00:00+00:00",
    )
    # Closed by an analyst since: what it said of the claim when raised stands.
    assert revised_claim("HIGH", [raised, BUYER_WEAK], 0.3, [BUYER_WEAK], set()) is None
    # Still open, but the late delivery shows the parcel lost weight in transit: the claim is
    # the partner's matter, the fresh run carries no floor, and the claim comes down.
    lowered = revised_claim("HIGH", [raised, BUYER_WEAK], 0.3, [BUYER_WEAK], {"a-seller"})
    assert lowered is not None and lowered.band is FraudBand.LOW
    assert [r.code for r in lowered.reasons] == [BUYER_WEAK.code]


def test_a_cleared_alerts_lowering_is_applied_again() -> None:
    cleared = reason("ALERT_CLEARED", 0.0, pattern="CLAIM_ABUSE", entity=SELLER, alert_id="a")
    # As of the claim's time the seller's test is HIGH again, but fraud cleared that alert
    # since: the claim stays where the clearing put it.
    live = reason("SELLER_CLAIM_RATE_SEQUENTIAL", 0.9, pattern="CLAIM_ABUSE", entity=SELLER)
    assert revised_claim("LOW", [cleared, BUYER_WEAK], 0.93, [live, BUYER_WEAK]) is None


def read(**over: Any) -> ScansRead:
    base: dict[str, Any] = dict(
        ended=True,
        seller_claim=True,
        qc_passed=False,
        qc_agent=None,
        qc_hub=None,
        pickup_agent="AG-P",
        incident=False,
        drop=False,
        hub="H-1",
    )
    return ScansRead(**(base | over))


def test_newly_named_handlers_are_those_the_scan_added() -> None:
    before = read()
    after = read(qc_passed=True, qc_agent="AG-QC", qc_hub="H-1")
    assert newly_named(before, after) == {("agent", "AG-QC"), ("hub", "H-1")}
    assert newly_named(after, after) == set()
    assert newly_named(read(pickup_agent=None, hub=None), before) == {
        ("agent", "AG-P"),
        ("hub", "H-1"),
    }


def test_a_floor_the_claim_took_from_an_alert_open_then_stays_once_a_person_closes_it() -> None:
    # Floored at its first assessment by alert X (no revision time: X was open already), X
    # closed by an analyst since: as for a claim X revised, what X showed stands.
    floor = reason(
        "SELLER_CLAIM_RATE_SEQUENTIAL", 0.88, pattern="CLAIM_ABUSE", entity=SELLER, alert_id="x"
    )
    assert revised_claim("HIGH", [floor, BUYER_WEAK], 0.3, [BUYER_WEAK], set()) is None


def test_an_older_alerts_clearing_does_not_take_out_a_newer_alerts_floor() -> None:
    # Alert A on the seller cleared (the claim lowered), a later alert B on the same seller and
    # pattern raised it again; a late scan's re-run must not strip B's floor with A's clearing.
    cleared_a = reason(
        "ALERT_CLEARED",
        0.0,
        pattern="CLAIM_ABUSE",
        entity=SELLER,
        alert_id="A",
        revised_on_event_time="2026-11-28T10:00:00+00:00",
    )
    b_floor = reason(
        "SELLER_CLAIM_RATE_SEQUENTIAL",
        0.88,
        pattern="CLAIM_ABUSE",
        entity=SELLER,
        alert_id="B",
        revised_on_event_time="2026-11-30T10:00:00+00:00",
    )
    latest = [b_floor, cleared_a, BUYER_WEAK]
    # B still open: the fresh run brings its floor.
    assert revised_claim("HIGH", latest, 0.88, [b_floor, BUYER_WEAK], {"B"}) is None
    # B closed by a person: its revision is carried, and A's clearing leaves it.
    assert revised_claim("HIGH", latest, 0.3, [BUYER_WEAK], set()) is None
    # A's own floor, or the live test found again as of the claim's time, still leaves.
    live = reason("SELLER_CLAIM_RATE_SEQUENTIAL", 0.88, pattern="CLAIM_ABUSE", entity=SELLER)
    revised = revised_claim("LOW", [cleared_a, BUYER_WEAK], 0.88, [live, BUYER_WEAK], set())
    assert revised is None or revised.band is not FraudBand.HIGH
