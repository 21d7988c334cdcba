"""Decision records as the SOP writes them, one per rule's scenario, its English paragraph
included: the source of facts the Hindi wording tests compare against (pure, no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.reconciliation.policy.explain import explain
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import evaluate_claim
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import ClaimType, DecisionRecord, FraudBand

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
DELIVERED = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
PICKUP = DELIVERED - timedelta(days=1)
NOT_DELIVERED = {"claim_type": ClaimType.NOT_RECEIVED, "delivered_at": None, "evidence_counts": {}}


def sop_facts(**over: object) -> Facts:
    base = Facts(
        return_known=True,
        seller_id="S1",
        buyer_id="B1",
        partner_id="swiftship",
        category="electronics",
        item_value=1_800_000,
        qc_required=False,
        claim_type=ClaimType.DAMAGED,
        claimed_amount=1_800_000,
        filed_at=DELIVERED + timedelta(days=3),
        evidence_counts={"UNBOXING_VIDEO": 1},
        pickup_at=PICKUP,
        pickup_weight_g=1000,
        delivered_at=DELIVERED,
        delivered_weight_g=1000,
        pod_otp_verified=False,
        fraud_band=FraudBand.LOW,
    )
    return replace(base, **over)  # type: ignore[arg-type]


SCENARIOS = {
    "L1": {**NOT_DELIVERED, "declared_lost": True},
    "L2": {"declared_damaged_in_transit": True},
    "L3": {**NOT_DELIVERED, "filed_at": PICKUP + timedelta(days=11)},
    "L4": {"claim_type": ClaimType.NOT_RECEIVED, "evidence_counts": {}, "pod_otp_verified": True},
    "L5": {"claim_type": ClaimType.NOT_RECEIVED, "evidence_counts": {}},
    "L6": {"delivered_weight_g": 600},
    "L7": {"qc_result": "FAILED", "qc_required": True, "picked_up_after_qc": True},
    "L8": {"qc_result": "PASSED", "claim_type": ClaimType.WRONG_ITEM},
    "L9": {"qc_result": "PASSED", "item_value": 3_000_000, "claimed_amount": 2_000_000},
    "L10": {"claim_type": ClaimType.USED_ITEM},
    "L11": {},
    "E3": {"filed_at": DELIVERED + timedelta(days=8)},
    "E3b": {**NOT_DELIVERED, "filed_at": PICKUP + timedelta(days=3)},
    "E3c": {**NOT_DELIVERED, "filed_at": PICKUP + timedelta(days=50)},
    "E4": {"evidence_counts": {}},  # and the reply-by passed
}


def sop_record(rule: str, *, proactive: bool = False) -> DecisionRecord:
    """The decision record the SOP writes for the rule's scenario, its paragraph included."""
    f = sop_facts(**SCENARIOS[rule])
    verdict = evaluate_claim(
        f, SOP_V1, facts_wait_over=True, fraud_wait_over=True, reply_by_passed=rule == "E4"
    )
    assert verdict.rule_id == rule, verdict
    text = explain(verdict, f, SOP_V1, return_id="RET-C-HI", seller_claimed=not proactive)
    a = verdict.amounts
    return DecisionRecord(
        policy_version="sop-v1",
        rule_id=rule,
        outcome=a.outcome if a else None,
        reason_code=verdict.reason_code,
        liable_party=verdict.liable_party,
        payout_pct=a.payout_pct if a else 0,
        payout=a.payout if a else 0,
        partner_debit=a.partner_debit if a else 0,
        buyer_receivable=a.buyer_receivable if a else 0,
        marketplace_cost=a.marketplace_cost if a else 0,
        facts=f.as_record(),
        explanation=text,
        decided_at=AT,
    )
