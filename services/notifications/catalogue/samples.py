"""Realistic sample events for every template: used by the preview endpoint and by tests.

A sample names its seller's address as `seller_email=` for convenience; the event carries it as
real events do, sealed (`seller_contact`), when this process has notifications' keys, and as the
legacy plaintext field otherwise (the preview endpoint passes the address itself).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from shared.events import (
    AppealWithoutCase,
    CaseAppealed,
    CaseDecided,
    CaseEscalated,
    CaseOpened,
    CaseOrigin,
    CaseRejected,
    CaseSettled,
    CaseState,
    CaseTaskOpened,
    CaseTaskOverdue,
    CaseUnderReview,
    CaseUpdated,
    ClaimTerms,
    ClaimType,
    DecisionRecord,
    EvidenceRequested,
    FraudAlertRaised,
    FraudBand,
    LiableParty,
    Outcome,
    PartnerStatementIssued,
    SellerFeedbackReceived,
    SettlementWait,
)
from shared.keys import PII_PRIVATE_KEYS, optional_key_list
from shared.pii import ContactSealer, public_key_of

SAMPLE_EMAIL = "seller.sample@example.com"


def _sealer() -> ContactSealer | None:
    keys = optional_key_list(PII_PRIVATE_KEYS)
    return None if keys is None else ContactSealer(keys.current_id, public_key_of(keys.current))


def _with_contact(values: dict[str, Any]) -> dict[str, Any]:
    address = values.pop("seller_email", None)
    sealer = _sealer() if address else None
    if sealer is not None:
        values.setdefault("seller_contact", sealer.seal(str(address)))
    elif address:
        values["seller_email"] = address
    return values


def _base(
    case_id: str, version: int, state: CaseState, at: datetime, **over: object
) -> dict[str, object]:
    base: dict[str, object] = {
        "case_id": case_id,
        "case_version": version,
        "return_id": f"RET-{case_id}",
        "seller_id": "S-ACME-42",
        "partner_id": "swiftship",
        "claim_type": ClaimType.DAMAGED,
        "origin": CaseOrigin.SELLER,
        "state": state,
        "actor": "system",
        "reason": "Claim received from the seller portal.",
        "occurred_at": at,
        "seller_email": SAMPLE_EMAIL,
        "claimed_amount": 12_345_600,
    }
    base.update(over)
    return _with_contact(base)


def decision_record(at: datetime, **over: object) -> DecisionRecord:
    values: dict[str, object] = {
        "policy_version": "sop-v1",
        "rule_id": "L6",
        "outcome": Outcome.GRANTED,
        "liable_party": LiableParty.PARTNER,
        "payout_pct": 100,
        "payout": 12_345_600,
        "partner_debit": 1_000_000,
        "marketplace_cost": 11_345_600,
        "explanation": "The parcel weighed 1,450 g at pickup but only 610 g when it was delivered "
        "back to you, a drop of 840 g, which shows the item was tampered with in transit.",
        "decided_at": at,
    }
    values.update(over)
    return DecisionRecord(**values)


def case_opened(case_id: str, at: datetime, **over: object) -> CaseOpened:
    return CaseOpened(
        **_base(case_id, 1, CaseState.OPEN, at, **over),
        expected_decision_by=at + timedelta(hours=48),
    )


def evidence_requested(case_id: str, at: datetime, **over: object) -> EvidenceRequested:
    return EvidenceRequested(
        **_base(
            case_id,
            2,
            CaseState.AWAITING_EVIDENCE,
            at,
            reason="A damage claim needs an unboxing video, or photos of the item and its label.",
            **over,
        ),
        checklist=["UNBOXING_VIDEO", "LABEL_PHOTO"],
        reply_by=at + timedelta(hours=72),
    )


def case_decided(case_id: str, at: datetime, **over: object) -> CaseDecided:
    return CaseDecided(
        **_base(
            case_id,
            3,
            CaseState.DECIDED,
            at,
            decision=decision_record(at),
            reason="Decided by rule L6.",
            **over,
        ),
        appeal_by=at + timedelta(days=7),
    )


def case_rejected(case_id: str, at: datetime, **over: object) -> CaseRejected:
    decision = decision_record(
        at,
        rule_id="E4",
        outcome=None,
        liable_party=None,
        payout_pct=0,
        payout=0,
        partner_debit=0,
        marketplace_cost=0,
        reason_code="EVIDENCE_NOT_PROVIDED",
        explanation="We asked for an unboxing video or photos of the item and its label, and "
        "none had arrived when the 72-hour reply-by time passed.",
    )
    return CaseRejected(
        **_base(
            case_id,
            4,
            CaseState.REJECTED,
            at,
            decision=decision,
            reason="Evidence not provided in time.",
            **over,
        ),
        appeal_by=at + timedelta(days=7),
        reply_by=at,  # the evidence timer fires at the reply-by
        # SOP v1's windows and a damage claim's checklist, as reconciliation states them.
        claim_terms=ClaimTerms(
            claim_window_h=168,
            not_received_earliest_days=10,
            not_received_latest_days=45,
            evidence_reply_h=72,
            evidence_checklist=[
                "An unboxing video of the returned parcel, or",
                "At least 2 photos of the item and 1 photo of the shipping label",
            ],
        ),
    )


def appeal_decided(case_id: str, at: datetime, **over: object) -> CaseDecided:
    decision = decision_record(
        at,
        decided_by="ops-manager-7",
        explanation="The label photo you sent with your appeal shows the parcel was resealed "
        "with the logistics partner's tape, so the damage happened in transit.",
    )
    return CaseDecided(
        **_base(
            case_id,
            6,
            CaseState.DECIDED,
            at,
            previous_state=CaseState.APPEALED,
            decision=decision,
            actor="ops-manager-7",
            reason="Appeal upheld.",
            **over,
        ),
    )


def escalation_merged(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """A seller's filing joins the case the desk opened itself (E2)."""
    values = {"origin": CaseOrigin.PROACTIVE, "next_step_by": at + timedelta(hours=72), **over}
    return CaseUpdated(
        **_base(case_id, 3, CaseState.AWAITING_EVIDENCE, at, **values),
        change="ESCALATION_MERGED",
    )


def duplicate_filing(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """A seller files again about a decided case (E2b): refused, the case unchanged."""
    return CaseUpdated(
        **_base(
            case_id,
            5,
            CaseState.CLOSED,
            at,
            **{
                "reason": "This return already has a decided case; appeal it instead.",
                "decision": decision_record(
                    at,
                    rule_id="E2b",
                    outcome=None,
                    liable_party=None,
                    payout_pct=0,
                    payout=0,
                    partner_debit=0,
                    marketplace_cost=0,
                    reason_code="DUPLICATE_CLAIM",
                    explanation="This return already has a decided case, and a second claim "
                    "about the same return cannot be opened; you can appeal the existing "
                    "decision instead.",
                ),
                **over,
            },
        ),
        change="DUPLICATE_CLAIM_REJECTED",
        appeal_by=at + timedelta(days=7),
    )


def appeal_late(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """An appeal filed a day after the window closed: recorded, the decision stands."""
    return CaseUpdated(
        **_base(
            case_id,
            6,
            CaseState.CLOSED,
            at,
            **{"reason": "Appeal filed after the appeal window closed.", **over},
        ),
        change="APPEAL_LATE",
        appeal_by=at - timedelta(days=1),
    )


def seller_wrote(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """Evidence the seller sent after its case was decided and paid, inside the appeal window:
    kept on the case and answered (the decision stands; how to appeal and until when)."""
    return CaseUpdated(
        **_base(
            case_id,
            7,
            CaseState.CLOSED,
            at,
            **{
                "reason": "Evidence added after the decision (PHOTO).",
                "decision": decision_record(at - timedelta(days=1)),
                **over,
            },
        ),
        change="SELLER_WROTE",
        appeal_by=at + timedelta(days=6),
        message_evidence={"PHOTO": 2},
    )


def proposal_replaced(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """A partner's transit-damage declaration replaced the SOP's proposal awaiting approval:
    L11's half of the claim became L2's whole."""
    return CaseUpdated(
        **_base(
            case_id,
            5,
            CaseState.ESCALATED,
            at,
            **{
                "reason": "A new fact changed the proposal awaiting approval.",
                "decision": decision_record(
                    at, rule_id="L2", payout=6_000_000, marketplace_cost=5_000_000
                ),
                **over,
            },
        ),
        change="PROPOSAL_REPLACED",
        replaced_decision=decision_record(
            at - timedelta(hours=1),
            rule_id="L11",
            outcome=Outcome.PARTIAL,
            liable_party=LiableParty.BUYER,
            payout_pct=50,
            payout=3_000_000,
            partner_debit=0,
            buyer_receivable=3_000_000,
            marketplace_cost=0,
        ),
        proposal_id="PROP-0123456789ABCDEF",
        replaced_proposal_id="PROP-FEDCBA9876543210",
        next_step_by=at + timedelta(hours=23),
    )


def appeal_not_heard(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """An appeal sent while the claim still waits for evidence: nothing to appeal yet."""
    return CaseUpdated(
        **_base(
            case_id,
            3,
            CaseState.AWAITING_EVIDENCE,
            at,
            **{"reason": "An appeal arrived but the case has no decision to appeal yet.", **over},
        ),
        change="APPEAL_BEFORE_DECISION",
        next_step_by=at + timedelta(hours=72),
    )


def appeal_without_case(return_id: str, at: datetime, **over: Any) -> AppealWithoutCase:
    """An appeal by the return route on a return the desk has no case for."""
    return AppealWithoutCase(
        appeal_id="APL-0123456789ABCDEF",
        return_id=return_id,
        seller_id="S-ACME-42",
        filed_at=at,
        occurred_at=at,
        **over,
    )


def case_escalated(
    case_id: str, at: datetime, escalation_reason: str = "SLA_BREACHED", **over: object
) -> CaseEscalated:
    decision = None
    if escalation_reason == "ABOVE_APPROVAL_CAP":
        decision = decision_record(at)
    return CaseEscalated(
        **_base(
            case_id,
            5,
            CaseState.ESCALATED,
            at,
            previous_state=CaseState.UNDER_REVIEW,
            decision=decision,
            reason=(
                "Under review for more than 48 hours without a decision."
                if escalation_reason == "SLA_BREACHED"
                else "The payout is above the ₹25,000.00 approval cap."
            ),
            **over,
        ),
        escalation_reason=escalation_reason,
        decision_due_by=at + timedelta(hours=24),
    )


def fraud_alert(at: datetime, **over: object) -> FraudAlertRaised:
    values: dict[str, object] = {
        "alert_id": UUID("6f1c2a4e-7b1d-4c3e-9a51-0d2f3b4c5d6e"),
        "pattern": "PILFERAGE_HUB",
        "entity_type": "hub",
        "entity_id": "BLR-HSR-01",
        "severity": FraudBand.HIGH,
        "summary": "Weight-drop claims through hub BLR-HSR-01 are 6.2 times its 8-week baseline.",
        "evidence": {"weight_drop_claims_7d": 31, "baseline_7d": 5, "p_value": "1e-6"},
        "suggested_action": "Audit the hub's CCTV for the last 7 days and hold its outbound "
        "returns for re-weighing.",
        "raised_at": at,
    }
    values.update(over)
    return FraudAlertRaised(**values)


def _task_values(case_id: str, at: datetime) -> dict[str, object]:
    return {
        "task_id": UUID("0c9d7e1a-5b2f-4e3a-8c61-2f4a6b8d0e13"),
        "case_id": case_id,
        "return_id": "R-SAMPLE-1",
        "team": "finance",
        "ask": f"Confirm the payout of 3000000 paise on case {case_id} (above 2500000 paise) "
        "before it is paid.",
        "owner": None,
        "due_at": at + timedelta(hours=24),
        "blocks_settlement": True,
        "opened_by": "system",
        "occurred_at": at,
    }


def task_opened(case_id: str, at: datetime, **over: object) -> CaseTaskOpened:
    values = _task_values(case_id, at)
    values.update(over)
    return CaseTaskOpened(**values)


def management_escalation(case_id: str, at: datetime) -> CaseTaskOpened:
    return task_opened(
        case_id,
        at,
        team="management",
        ask="Escalated by agent-7: the partner disputes three debits on this hub.",
        blocks_settlement=False,
        opened_by="agent-7",
        escalation_reason="The partner disputes three debits on this hub.",
        report_html=f"<!doctype html><html><body><h1>Case {case_id}</h1></body></html>",
    )


def task_overdue(case_id: str, at: datetime) -> CaseTaskOverdue:
    values = _task_values(case_id, at - timedelta(hours=30))
    values["occurred_at"] = at
    return CaseTaskOverdue(**values)


def partner_statement(at: datetime) -> PartnerStatementIssued:
    return PartnerStatementIssued(
        statement_id=UUID("5a0e4c2b-9d1f-4b7a-8e36-1c2d3e4f5a6b"),
        partner_id="swiftship",
        month="2026-11",
        opening_balance=1_250_000,
        debits=480_000,
        reversals=90_000,
        contests_filed=2,
        contests_amount=150_000,
        closing_balance=1_640_000,
        lines=7,
        statement_csv="partner,swiftship,month,2026-11,amounts in paise\r\n",
        issued_by="finance-1",
        issued_at=at,
    )


def seller_feedback(at: datetime, **over: object) -> SellerFeedbackReceived:
    values: dict[str, object] = {
        "feedback_id": "FB-SAMPLE-1",
        "seller_id": "S-ACME-42",
        "rating": 1,
        "text": "Nobody told me why my claim was rejected & I lost ₹4,500.",
        "return_id": "RET-SAMPLE-9",
        "received_at": at,
        "seller_email": SAMPLE_EMAIL,
    }
    values.update(over)
    return SellerFeedbackReceived(**_with_contact(values))


SAMPLE_TIME = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def case_appealed(case_id: str, at: datetime, **over: object) -> CaseAppealed:
    return CaseAppealed(
        **_base(
            case_id,
            5,
            CaseState.APPEALED,
            at,
            previous_state=CaseState.CLOSED,
            actor="S-ACME-42",
            reason="The seller appealed: the label photo shows the partner's tape.",
            **{"decision_due_by": at + timedelta(hours=48), **over},
        )
    )


def decision_overdue(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """Management's date on an escalated case passed without a decision."""
    return CaseUpdated(
        **_base(
            case_id,
            6,
            CaseState.ESCALATED,
            at,
            previous_state=CaseState.ESCALATED,
            reason="The date promised to the seller for a decision on the escalated case passed "
            "without one; management is alerted and the seller given a new date.",
            **over,
        ),
        change="DECISION_OVERDUE",
        next_step_by=at + timedelta(hours=24),
    )


def settlement_overdue(case_id: str, at: datetime, **over: object) -> CaseUpdated:
    """A decided payment held for finance's confirmation missed the date the seller was given."""
    new_date = at + timedelta(hours=24)
    return CaseUpdated(
        **_base(
            case_id,
            4,
            CaseState.DECIDED,
            at,
            previous_state=CaseState.DECIDED,
            decision=decision_record(at - timedelta(hours=24)),
            reason="The payment waiting for finance missed the date the seller was given.",
            **over,
        ),
        change="SETTLEMENT_OVERDUE",
        next_step_by=new_date,
        settlement_waits=[
            SettlementWait(team="finance", expected_by=new_date, kind="FINANCE_PAYOUT")
        ],
    )


def case_settled(case_id: str, at: datetime, **over: object) -> CaseSettled:
    return CaseSettled(
        **_base(
            case_id,
            4,
            CaseState.CLOSED,
            at,
            previous_state=CaseState.DECIDED,
            decision=decision_record(at),
            reason="Settled: 12345600 paise to the seller.",
            **over,
        ),
        ledger_transaction_id=UUID("5f0c2a8e-7d1b-4c3e-9a6f-2b8d4e1c7a90"),
    )


def case_under_review(case_id: str, at: datetime, **over: object) -> CaseUnderReview:
    """A person now decides a case that was waiting for the seller's evidence."""
    return CaseUnderReview(
        **_base(
            case_id,
            4,
            CaseState.UNDER_REVIEW,
            at,
            previous_state=CaseState.AWAITING_EVIDENCE,
            reason="The evidence the desk asked for arrived; the case is back with the desk.",
            **over,
        ),
        decision_due_by=at + timedelta(hours=48),
    )
