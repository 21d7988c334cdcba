"""SOP v1 rules, one table row per rule and per boundary, over pure facts snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.reconciliation.policy.facts import (
    AssessmentFact,
    ClaimFact,
    EvidenceFact,
    Facts,
    ReturnFact,
    ScanFact,
    band_of,
    build_facts,
)
from services.reconciliation.policy.rules import (
    Step,
    above_approval_cap,
    assign_liability,
    compute_amounts,
    e2_merge_into_open_case,
    e2b_duplicate_claim,
    evaluate_claim,
    evaluate_proactive,
    evidence_shortfall,
    has_weight_drop,
    l7_qc_failed_but_picked_up,
    liability_verdict,
    proactive_trigger,
)
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import CaseState, ClaimType, FraudBand, LiableParty, Outcome

P = SOP_V1
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def facts(**over: Any) -> Facts:
    """A DAMAGED claim, picked up and delivered at the same weight, with an unboxing video."""
    base = Facts(
        return_known=True,
        seller_id="S1",
        buyer_id="B1",
        partner_id="swiftship",
        category="electronics",
        item_value=249_900,
        qc_required=False,
        claim_type=ClaimType.DAMAGED,
        claimed_amount=249_900,
        filed_at=T0 + timedelta(days=3),
        evidence_counts={"UNBOXING_VIDEO": 1},
        received_weight_g=None,
        pickup_at=T0,
        pickup_weight_g=1000,
        qc_result=None,
        picked_up_after_qc=True,  # a QC result, when a test sets one, came before the pickup
        delivered_at=T0 + timedelta(days=2),
        delivered_weight_g=1000,
        pod_otp_verified=False,
        fraud_band=FraudBand.LOW,
    )
    return replace(base, **over)


def not_received(**over: Any) -> Facts:
    values: dict[str, Any] = {
        "claim_type": ClaimType.NOT_RECEIVED,
        "delivered_at": None,
        "delivered_weight_g": None,
        "pod_otp_verified": None,
        "evidence_counts": {},
        "filed_at": T0 + timedelta(days=12),
    }
    return facts(**{**values, **over})


# (case id, facts, expected step, expected rule, expected reason code)
ELIGIBILITY = [
    (
        "E1 return unknown",
        facts(return_known=False, item_value=None),
        Step.WAIT_FACTS,
        "E1",
        "PENDING_FACTS",
    ),
    (
        "E1 no delivery scan for an item claim",
        facts(delivered_at=None),
        Step.WAIT_FACTS,
        "E1",
        "PENDING_FACTS",
    ),
    (
        "E1 no pickup scan for an item claim: a short wait for it",
        facts(pickup_at=None),
        Step.WAIT_FACTS,
        "E1",
        "PENDING_SCANS",
    ),
    (
        "E1 QC required but no QC scan yet: a short wait for it",
        facts(qc_required=True),
        Step.WAIT_FACTS,
        "E1",
        "PENDING_SCANS",
    ),
    (
        "E1 a partner declaration stands in for the scans",
        facts(delivered_at=None, pickup_at=None, declared_damaged_in_transit=True),
        Step.DECIDE,
        "L2",
        None,
    ),
    ("E1 NOT_RECEIVED needs no delivery scan", not_received(), Step.DECIDE, "L3", None),
    (
        "E3 filed 168 h + 1 s after delivery",
        facts(filed_at=T0 + timedelta(days=9, seconds=1)),
        Step.REJECT,
        "E3",
        "CLAIM_WINDOW_EXPIRED",
    ),
    (
        "E3 boundary: exactly 168 h is in time",
        facts(filed_at=T0 + timedelta(days=9)),
        Step.DECIDE,
        "L11",
        None,
    ),
    (
        "E3b NOT_RECEIVED 9 days after pickup",
        not_received(filed_at=T0 + timedelta(days=9, hours=23)),
        Step.REJECT,
        "E3b",
        "PREMATURE_CLAIM",
    ),
    (
        "E3b boundary: exactly 10 days is not premature",
        not_received(filed_at=T0 + timedelta(days=10)),
        Step.DECIDE,
        "L3",
        None,
    ),
    (
        "E3c NOT_RECEIVED 46 days after pickup",
        not_received(filed_at=T0 + timedelta(days=46)),
        Step.REJECT,
        "E3c",
        "CLAIM_WINDOW_EXPIRED",
    ),
    (
        "E3c boundary: exactly 45 days is in time",
        not_received(filed_at=T0 + timedelta(days=45)),
        Step.DECIDE,
        "L3",
        None,
    ),
    (
        "E4 DAMAGED with one photo",
        facts(evidence_counts={"PHOTO": 1}),
        Step.AWAIT_EVIDENCE,
        "E4",
        "EVIDENCE_MISSING",
    ),
    (
        "E4 two photos and a label photo suffice",
        facts(evidence_counts={"PHOTO": 2, "LABEL_PHOTO": 1}),
        Step.DECIDE,
        "L11",
        None,
    ),
    (
        "E4 MISSING_ITEM video without weight",
        facts(claim_type=ClaimType.MISSING_ITEM),
        Step.AWAIT_EVIDENCE,
        "E4",
        "EVIDENCE_MISSING",
    ),
    (
        "E4 MISSING_ITEM video and weight",
        facts(claim_type=ClaimType.MISSING_ITEM, received_weight_g=990),
        Step.DECIDE,
        "L10",
        None,
    ),
    (
        "E5 HIGH band goes to review",
        facts(fraud_band=FraudBand.HIGH),
        Step.REVIEW,
        "E5",
        "FRAUD_REVIEW",
    ),
    ("E5 MEDIUM band is decided", facts(fraud_band=FraudBand.MEDIUM), Step.DECIDE, "L11", None),
    (
        "E5b no assessment yet: wait",
        facts(fraud_band=None),
        Step.WAIT_FRAUD,
        "E5b",
        "FRAUD_ASSESSMENT",
    ),
]


@pytest.mark.parametrize(
    ("name", "f", "step", "rule", "reason"), ELIGIBILITY, ids=[r[0] for r in ELIGIBILITY]
)
def test_eligibility(name: str, f: Facts, step: Step, rule: str, reason: str | None) -> None:
    verdict = evaluate_claim(f, P)
    assert (verdict.step, verdict.rule_id, verdict.reason_code) == (step, rule, reason)


def test_e1_after_the_facts_wait_goes_to_review() -> None:
    verdict = evaluate_claim(facts(delivered_at=None), P, facts_wait_over=True)
    assert (verdict.step, verdict.reason_code) == (Step.REVIEW, "MISSING_FACTS")


@pytest.mark.parametrize(
    ("name", "f", "rule", "party", "pct"),
    [
        # The SOP needs only the return and the delivery scan for an item claim: "no QC at
        # pickup" is L10/L11 even when the return asked for QC and the partner never scanned it.
        ("QC required, never scanned, wrong item", "qc_wrong", "L10", LiableParty.BUYER, 100),
        ("QC required, never scanned, damaged", "qc_damaged", "L11", LiableParty.BUYER, 50),
        ("no pickup scan, damaged", "no_pickup", "L11", LiableParty.BUYER, 50),
        ("no pickup scan, seller's weight only", "no_pickup_weight", "L11", LiableParty.BUYER, 50),
    ],
)
def test_e1_after_the_short_scan_wait_decides_with_what_is_known(
    name: str, f: str, rule: str, party: LiableParty, pct: int
) -> None:
    snapshot = {
        "qc_wrong": facts(qc_required=True, claim_type=ClaimType.WRONG_ITEM),
        "qc_damaged": facts(qc_required=True),
        "no_pickup": facts(pickup_at=None, pickup_weight_g=None),
        "no_pickup_weight": facts(
            pickup_at=None, pickup_weight_g=None, delivered_weight_g=None, received_weight_g=10
        ),
    }[f]
    assert evaluate_claim(snapshot, P).reason_code == "PENDING_SCANS"
    verdict = evaluate_claim(snapshot, P, facts_wait_over=True)
    assert (verdict.step, verdict.rule_id, verdict.liable_party) == (Step.DECIDE, rule, party)
    assert verdict.amounts is not None and verdict.amounts.payout_pct == pct


def test_e1_not_received_without_any_scan_goes_to_review_after_the_scan_wait() -> None:
    f = not_received(pickup_at=None, pickup_weight_g=None)
    assert evaluate_claim(f, P).reason_code == "PENDING_SCANS"
    # Neither E3b/E3c nor L3 can be judged without the pickup: nothing matches (L12).
    verdict = evaluate_claim(f, P, facts_wait_over=True)
    assert (verdict.step, verdict.rule_id, verdict.reason_code) == (
        Step.REVIEW,
        "L12",
        "NO_RULE_MATCHED",
    )


def test_the_scan_wait_is_policy_data_well_inside_the_auto_decision_target() -> None:
    assert 0 < P.timers.scan_wait_min
    assert P.timers.scan_wait_min + P.timers.fraud_wait_min <= P.timers.auto_decision_min


def test_e4_reply_by_passed_rejects() -> None:
    verdict = evaluate_claim(facts(evidence_counts={}), P, reply_by_passed=True)
    assert (verdict.step, verdict.rule_id, verdict.reason_code) == (
        Step.REJECT,
        "E4",
        "EVIDENCE_NOT_PROVIDED",
    )


def test_e4_checklist_comes_from_the_policy() -> None:
    verdict = evaluate_claim(facts(evidence_counts={}), P)
    assert verdict.checklist == P.evidence[ClaimType.DAMAGED].checklist


def test_e5b_after_the_wait_goes_to_review() -> None:
    verdict = evaluate_claim(facts(fraud_band=None), P, fraud_wait_over=True)
    assert (verdict.step, verdict.rule_id, verdict.reason_code) == (
        Step.REVIEW,
        "E5b",
        "FRAUD_ASSESSMENT_MISSING",
    )


def test_e3_is_checked_before_evidence() -> None:
    late = facts(filed_at=T0 + timedelta(days=20), evidence_counts={})
    assert evaluate_claim(late, P).rule_id == "E3"


@pytest.mark.parametrize(
    ("state", "merged"),
    [
        (CaseState.OPEN, True),
        (CaseState.AWAITING_EVIDENCE, True),
        (CaseState.UNDER_REVIEW, True),
        (CaseState.ESCALATED, True),
        (CaseState.DECIDED, False),
        (CaseState.CLOSED, False),
        (None, False),
    ],
)
def test_e2_merges_into_an_open_case(state: CaseState | None, merged: bool) -> None:
    verdict = e2_merge_into_open_case(state)
    assert (verdict is not None and verdict.rule_id == "E2") is merged


@pytest.mark.parametrize(
    ("state", "is_appeal", "duplicate"),
    [
        (CaseState.DECIDED, False, True),
        (CaseState.REJECTED, False, True),
        (CaseState.CLOSED, False, True),
        (CaseState.DECIDED, True, False),
        (CaseState.OPEN, False, False),
        (None, False, False),
    ],
)
def test_e2b_rejects_a_second_claim(
    state: CaseState | None, is_appeal: bool, duplicate: bool
) -> None:
    verdict = e2b_duplicate_claim(state, is_appeal=is_appeal)
    assert (verdict is not None and verdict.reason_code == "DUPLICATE_CLAIM") is duplicate


# (case id, facts, rule, liable party, payout pct, payout)
LIABILITY = [
    (
        "L1 declared lost",
        not_received(declared_lost=True, filed_at=T0 + timedelta(days=2)),
        "L1",
        LiableParty.PARTNER,
        100,
        249_900,
    ),
    (
        "L2 declared damaged in transit",
        facts(declared_damaged_in_transit=True),
        "L2",
        LiableParty.PARTNER,
        100,
        249_900,
    ),
    ("L3 never delivered, 10 days on", not_received(), "L3", LiableParty.PARTNER, 100, 249_900),
    (
        "L4 delivered with OTP",
        not_received(delivered_at=T0 + timedelta(days=2), pod_otp_verified=True),
        "L4",
        LiableParty.SELLER,
        0,
        0,
    ),
    (
        "L5 delivered without OTP",
        not_received(delivered_at=T0 + timedelta(days=2), pod_otp_verified=False),
        "L5",
        LiableParty.PARTNER,
        100,
        249_900,
    ),
    ("L6 weight drop", facts(delivered_weight_g=800), "L6", LiableParty.PARTNER, 100, 249_900),
    (
        "L6 seller's weight when the partner has none",
        facts(delivered_weight_g=None, received_weight_g=800),
        "L6",
        LiableParty.PARTNER,
        100,
        249_900,
    ),
    (
        "L7 QC failed, picked up anyway",
        facts(qc_result="FAILED"),
        "L7",
        LiableParty.PARTNER,
        100,
        249_900,
    ),
    (
        "L8 QC passed, wrong item",
        facts(qc_result="PASSED", claim_type=ClaimType.WRONG_ITEM),
        "L8",
        LiableParty.PARTNER,
        100,
        249_900,
    ),
    ("L9 QC passed, damaged", facts(qc_result="PASSED"), "L9", LiableParty.PARTNER, 100, 249_900),
    (
        "L10 no QC, used item",
        facts(claim_type=ClaimType.USED_ITEM),
        "L10",
        LiableParty.BUYER,
        100,
        249_900,
    ),
    ("L11 no QC, damaged: half", facts(), "L11", LiableParty.BUYER, 50, 124_950),
]


@pytest.mark.parametrize(
    ("name", "f", "rule", "party", "pct", "payout"), LIABILITY, ids=[r[0] for r in LIABILITY]
)
def test_liability(
    name: str, f: Facts, rule: str, party: LiableParty, pct: int, payout: int
) -> None:
    verdict = evaluate_claim(f, P)
    assert verdict.rule_id == rule
    assert verdict.liable_party is party
    assert verdict.amounts is not None
    assert (verdict.amounts.payout_pct, verdict.amounts.payout) == (pct, payout)


def test_e1_not_received_without_a_pickup_scan_waits() -> None:
    verdict = evaluate_claim(not_received(pickup_at=None, pickup_weight_g=None), P)
    assert (verdict.step, verdict.rule_id) == (Step.WAIT_FACTS, "E1")
    assert verdict.reason_code == "PENDING_SCANS"


def test_l12_when_nothing_matches() -> None:
    # QC failed but no pickup scan, delivered, item claim: no liability rule can speak (the facts
    # wait ran out without the pickup scan, so E1 lets it through to review by a person).
    f = facts(qc_result="FAILED", pickup_at=None)
    assert assign_liability(f, P) == "L12"
    verdict = liability_verdict(f, P)
    assert (verdict.step, verdict.rule_id, verdict.reason_code) == (
        Step.REVIEW,
        "L12",
        "NO_RULE_MATCHED",
    )


def test_first_matching_rule_wins() -> None:
    # Declared lost and a weight drop and QC failed: L1 comes first.
    f = facts(declared_lost=True, delivered_weight_g=100, qc_result="FAILED")
    assert assign_liability(f, P) == "L1"


@pytest.mark.parametrize(
    ("pickup", "delivered", "drop"),
    [
        (400, 350, False),  # 50 g is max(50 g, 40 g): not more than the threshold
        (400, 349, True),
        (1000, 900, False),  # 100 g is max(50 g, 10 %): not more
        (1000, 899, True),
        (2000, 1801, False),
        (2000, 1799, True),
    ],
)
def test_weight_drop_boundary_50_g_versus_10_percent(
    pickup: int, delivered: int, drop: bool
) -> None:
    f = facts(pickup_weight_g=pickup, delivered_weight_g=delivered)
    assert has_weight_drop(f, P) is drop
    assert (assign_liability(f, P) == "L6") is drop


def test_amounts_use_the_lower_of_claim_and_item_value() -> None:
    a = compute_amounts(
        claimed_amount=300_000,
        item_value=200_000,
        payout_pct=100,
        liable_party=LiableParty.PARTNER,
        partner_id="swiftship",
        p=P,
    )
    assert (a.base, a.payout, a.partner_debit, a.marketplace_cost) == (200_000, 200_000, 200_000, 0)
    assert a.outcome is Outcome.GRANTED


@pytest.mark.parametrize(
    ("partner", "cap"), [("swiftship", 1_000_000), ("rapidroute", 500_000), ("desipost", 250_000)]
)
def test_partner_cap_exceeded_marketplace_absorbs_the_rest(partner: str, cap: int) -> None:
    a = compute_amounts(
        claimed_amount=1_200_000,
        item_value=1_500_000,
        payout_pct=100,
        liable_party=LiableParty.PARTNER,
        partner_id=partner,
        p=P,
    )
    assert a.payout == 1_200_000
    assert a.partner_debit == cap
    assert a.marketplace_cost == 1_200_000 - cap
    assert a.payout == a.partner_debit + a.buyer_receivable + a.marketplace_cost


def test_buyer_liable_payout_is_receivable_from_the_buyer() -> None:
    a = compute_amounts(
        claimed_amount=10_001,
        item_value=50_000,
        payout_pct=50,
        liable_party=LiableParty.BUYER,
        partner_id="swiftship",
        p=P,
    )
    assert (a.payout, a.buyer_receivable, a.partner_debit, a.marketplace_cost) == (
        5_000,
        5_000,
        0,
        0,
    )
    assert a.outcome is Outcome.PARTIAL


@pytest.mark.parametrize(
    ("payout", "escalates"), [(2_500_000, False), (2_500_001, True), (2_499_999, False)]
)
def test_approval_cap_boundary(payout: int, escalates: bool) -> None:
    assert above_approval_cap(payout, P) is escalates
    f = facts(
        claim_type=ClaimType.WRONG_ITEM,
        qc_result="PASSED",
        claimed_amount=payout,
        item_value=payout,
    )
    assert evaluate_claim(f, P).step is (Step.PROPOSE if escalates else Step.DECIDE)


# Proactive cases
def test_p1_lost_opens_a_not_received_case_decided_by_l1() -> None:
    f = facts(
        claim_type=None, claimed_amount=None, filed_at=None, declared_lost=True, delivered_at=None
    )
    trigger = proactive_trigger(f, P)
    assert trigger is not None and (trigger.rule_id, trigger.claim_type) == (
        "P1",
        ClaimType.NOT_RECEIVED,
    )
    claim = replace(f, claim_type=trigger.claim_type, claimed_amount=f.item_value, filed_at=T0)
    verdict = evaluate_proactive(claim, P)
    assert (verdict.step, verdict.rule_id, verdict.liable_party) == (
        Step.DECIDE,
        "L1",
        LiableParty.PARTNER,
    )


def test_p1_damaged_in_transit_opens_a_damaged_case() -> None:
    f = facts(claim_type=None, declared_damaged_in_transit=True)
    trigger = proactive_trigger(f, P)
    assert trigger is not None and (trigger.rule_id, trigger.claim_type) == (
        "P1",
        ClaimType.DAMAGED,
    )


def test_p2_delivered_with_weight_drop_awaits_evidence() -> None:
    f = facts(claim_type=None, delivered_weight_g=700)
    trigger = proactive_trigger(f, P)
    assert trigger is not None and trigger.rule_id == "P2" and trigger.awaits_evidence


def test_p2_does_not_open_once_its_window_after_delivery_has_closed() -> None:
    """P2 asks for evidence within the claim window after delivery: a weight drop reported
    after the window closed opens no case asking by a time already passed (the seller's own
    claim is then E3's). Exactly the window's end is still in it, as for E3."""
    f = facts(claim_type=None, delivered_weight_g=700)
    end = T0 + timedelta(days=2, hours=168)
    assert f.delivered_at == T0 + timedelta(days=2)
    trigger = proactive_trigger(f, P, at=end)
    assert trigger is not None and trigger.rule_id == "P2"
    assert proactive_trigger(f, P, at=end + timedelta(seconds=1)) is None
    # A failed quality check at pickup still opens its own case (P3) then.
    failed = replace(f, qc_result="FAILED")
    trigger = proactive_trigger(failed, P, at=end + timedelta(days=1))
    assert trigger is not None and trigger.rule_id == "P3"


def test_p3_picked_up_after_qc_failed_is_decided_by_l7() -> None:
    f = facts(claim_type=None, qc_result="FAILED", delivered_at=None, delivered_weight_g=None)
    trigger = proactive_trigger(f, P)
    assert trigger is not None and trigger.rule_id == "P3"
    assert evaluate_proactive(replace(f, claimed_amount=f.item_value), P).rule_id == "L7"


def test_proactive_cases_still_pass_the_fraud_gate() -> None:
    f = facts(claim_type=ClaimType.NOT_RECEIVED, declared_lost=True, fraud_band=None)
    assert evaluate_proactive(f, P).step is Step.WAIT_FRAUD
    assert evaluate_proactive(replace(f, fraud_band=FraudBand.HIGH), P).rule_id == "E5"


def test_no_trigger_for_an_uneventful_return() -> None:
    assert proactive_trigger(facts(claim_type=None), P) is None


# The facts snapshot
def test_facts_do_not_depend_on_arrival_order() -> None:
    scans = [
        ScanFact(_type("QC_PASSED"), T0 - timedelta(minutes=5), 1000),
        ScanFact(_type("PICKED_UP"), T0, 1000),
        ScanFact(_type("DELIVERED_TO_SELLER"), T0 + timedelta(days=2), 850, True),
    ]
    ret = ReturnFact("R", "S", "B", "swiftship", "toys", 1000, True)
    claim = ClaimFact(ClaimType.DAMAGED, 1000, T0 + timedelta(days=3))
    ev = [
        EvidenceFact("PHOTO", "a" * 64),
        EvidenceFact("PHOTO", "a" * 64),
        EvidenceFact("PHOTO", "b" * 64),
    ]
    one = build_facts(ret=ret, scans=scans, claim=claim, evidence=ev)
    two = build_facts(
        ret=ret, scans=list(reversed(scans)), claim=claim, evidence=list(reversed(ev))
    )
    assert one == two
    assert (
        one.qc_result == "PASSED" and one.pickup_weight_g == 1000 and one.delivered_weight_g == 850
    )
    assert one.evidence_counts == {"PHOTO": 2}  # the same file twice counts once


def test_a_repeated_delivery_scan_is_the_same_delivery() -> None:
    """E3 counts from the parcel's delivery: a partner's repeated delivery scan (a resend, a
    re-scan days later) neither restarts the window nor erases the first scan's OTP proof or
    weight."""
    ret = ReturnFact("R", "S", "B", "swiftship", "toys", 1000, False)
    first = T0 + timedelta(days=2)
    scans = [
        ScanFact(_type("PICKED_UP"), T0, 1000),
        ScanFact(_type("DELIVERED_TO_SELLER"), first, 990, True),
        ScanFact(_type("DELIVERED_TO_SELLER"), first + timedelta(days=6), None, False),
    ]
    claim = ClaimFact(ClaimType.DAMAGED, 1000, first + timedelta(days=8))
    f = build_facts(
        ret=ret, scans=scans, claim=claim, evidence=[EvidenceFact("UNBOXING_VIDEO", "a" * 64)]
    )
    assert (f.delivered_at, f.delivered_weight_g, f.pod_otp_verified) == (first, 990, True)
    verdict = evaluate_claim(replace(f, fraud_band=FraudBand.LOW), P)
    assert (verdict.rule_id, verdict.reason_code) == ("E3", "CLAIM_WINDOW_EXPIRED")


def test_latest_assessment_band_wins() -> None:
    assert (
        band_of(
            [AssessmentFact(FraudBand.HIGH, T0), AssessmentFact(FraudBand.LOW, T0 + timedelta(1))]
        )
        is FraudBand.LOW
    )
    assert (
        band_of([AssessmentFact(FraudBand.LOW, T0), AssessmentFact(FraudBand.HIGH, T0)])
        is FraudBand.HIGH
    )
    assert band_of([]) is None


def _type(name: str) -> Any:
    from shared.events import ShipmentEventType

    return ShipmentEventType(name)


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"evidence_counts": {}}, [{"UNBOXING_VIDEO": 1}, {"PHOTO": 2, "LABEL_PHOTO": 1}]),
        (
            {"evidence_counts": {"PHOTO": 1}},
            [{"UNBOXING_VIDEO": 1}, {"PHOTO": 1, "LABEL_PHOTO": 1}],
        ),
        (
            {"evidence_counts": {"PHOTO": 2, "INVOICE": 1}},
            [{"UNBOXING_VIDEO": 1}, {"LABEL_PHOTO": 1}],
        ),
        ({"evidence_counts": {"UNBOXING_VIDEO": 1}}, []),  # met: nothing to ask
        (
            {"claim_type": ClaimType.MISSING_ITEM, "evidence_counts": {"PHOTO": 3}},
            [{"UNBOXING_VIDEO": 1, "RECEIVED_WEIGHT_G": 1}],
        ),
        (
            {"claim_type": ClaimType.MISSING_ITEM, "evidence_counts": {"UNBOXING_VIDEO": 1}},
            [{"RECEIVED_WEIGHT_G": 1}],
        ),
        ({"claim_type": ClaimType.NOT_RECEIVED, "evidence_counts": {}}, []),
    ],
)
def test_the_evidence_shortfall_is_what_each_acceptable_set_still_lacks(
    over: dict[str, Any], expected: list[dict[str, int]]
) -> None:
    """E4: what the first request (and each one after) asks for, given what reached the case."""
    assert evidence_shortfall(facts(**over), P) == expected


def _qc_story(qc_at: datetime, *, pickups: tuple[datetime, ...] = (T0,)) -> Facts:
    """A damage claim on a return that required QC: a failed QC at `qc_at`, the pickups."""
    scans = [ScanFact(_type("QC_FAILED"), qc_at, 1000)]
    scans += [ScanFact(_type("PICKED_UP"), at, 1000) for at in pickups]
    scans.append(ScanFact(_type("DELIVERED_TO_SELLER"), T0 + timedelta(days=2), 1000, False))
    ret = ReturnFact("R", "S", "B", "swiftship", "toys", 100_000, True)
    claim = ClaimFact(ClaimType.DAMAGED, 100_000, T0 + timedelta(days=3))
    built = build_facts(ret=ret, scans=scans, claim=claim)
    # Arrival order says nothing: the scans reversed give the same facts.
    assert build_facts(ret=ret, scans=list(reversed(scans)), claim=claim) == built
    return replace(built, fraud_band=FraudBand.LOW, evidence_counts={"UNBOXING_VIDEO": 1})


@pytest.mark.parametrize(
    ("qc_at", "pickups", "l7"),
    [
        (T0 - timedelta(minutes=5), (T0,), True),  # failed at the door, taken anyway
        (T0, (T0,), True),  # the same instant: the QC at pickup
        (T0 + timedelta(hours=6), (T0,), False),  # failed on re-inspection after the pickup
        # picked up, failed on re-inspection, then picked up again (a re-pickup): anyway
        (T0 + timedelta(hours=6), (T0, T0 + timedelta(hours=7)), True),
    ],
)
def test_l7_and_p3_need_the_pickup_at_or_after_the_failed_qc(
    qc_at: datetime, pickups: tuple[datetime, ...], l7: bool
) -> None:
    f = _qc_story(qc_at, pickups=pickups)
    assert f.qc_result == "FAILED"
    assert l7_qc_failed_but_picked_up(f, P) is l7
    if l7:
        assert evaluate_claim(f, P).rule_id == "L7"
    else:
        # No rule reads a QC that failed only after the parcel was taken: a person decides.
        verdict = evaluate_claim(f, P)
        assert (verdict.step, verdict.rule_id) == (Step.REVIEW, "L12")
    proactive = replace(f, claim_type=None, claimed_amount=None, filed_at=None)
    trigger = proactive_trigger(proactive, P)
    assert (trigger is not None and trigger.rule_id == "P3") is l7


def test_a_decision_recorded_before_the_pickup_order_was_read_is_judged_as_it_was() -> None:
    """The what-if reads decisions' stored facts back: one stored before `picked_up_after_qc`
    existed took any pickup with a failed QC as L7, and still does."""
    record = facts(qc_result="FAILED").as_record()
    del record["picked_up_after_qc"]
    assert l7_qc_failed_but_picked_up(Facts.from_record(record), P)
    assert not Facts.from_record({**record, "picked_up_after_qc": False}).picked_up_after_qc
