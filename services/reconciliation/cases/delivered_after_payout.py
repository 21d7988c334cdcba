"""A parcel the decision paid as lost or never delivered (L1, L3, L5) that then reaches the
seller. The decision stands: facts after a decision are stored and shown to the desk, not
re-judged (sop.md). But the money it moved rests on a fact the partner has now contradicted:
the seller holds both the payout and the parcel, the partner is debited for a parcel it
delivered. The desk gets one finance task naming the payout and the debit to recover or
confirm, a `CaseUpdated` on the timeline and a counter. Nothing is posted and the seller is not
written to: recovering a payout is a seller-facing act the SOP does not define, so a person
decides it. The task is opened through a case hook (`settlement.RecoveryAsk`, installed by
`wiring.py`): the tasks build on the cases, so the cases may not import them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases import repository, settlement
from services.reconciliation.cases.decisions import decision_of
from services.reconciliation.cases.timeline import SYSTEM, emit
from services.reconciliation.cases.transitions import Move
from services.reconciliation.models import Case
from services.reconciliation.policy import service as policies
from shared.events import CaseState, CaseUpdated, DecisionRecord, ReturnShipmentEvent
from shared.events import ShipmentEventType as Scan

# The CaseUpdated change code, and the kind of the task it opens (one per case).
DELIVERED_AFTER_LOSS_PAYOUT = "DELIVERED_AFTER_LOSS_PAYOUT"
# The rules that pay because the parcel did not reach the seller: declared lost (L1), no delivery
# record ten days after pickup (L3), a delivery without OTP proof the seller disputes (L5).
PAID_AS_UNDELIVERED = {"L1": "lost", "L3": "not received", "L5": "not received"}
# A decision that stands: decided (settled or waiting for a team), closed, or under appeal (the
# appeal's decider sees the task; an upheld decision would otherwise keep the money unasked).
STANDING = (CaseState.DECIDED, CaseState.APPEALED, CaseState.CLOSED)


async def on_delivery_after_payout(
    session: AsyncSession, *, event: ReturnShipmentEvent, now: datetime
) -> UUID | None:
    """A delivery scan just stored: when its return's case was paid as undelivered, ask the
    desk to recover or confirm the money (once per case). Called before the case is re-run on
    the scan, so it judges the decision that stood when the parcel was delivered."""
    if event.event_type is not Scan.DELIVERED_TO_SELLER:
        return None
    case = await repository.lock_by_return(session, event.return_id)
    if case is None or CaseState(case.state) not in STANDING:
        return None
    record = decision_of(case)
    if record is None or record.rule_id not in PAID_AS_UNDELIVERED:
        return None
    if record.payout <= 0 and record.partner_debit <= 0:
        return None
    if not _news_to(record, event):
        return None
    p = await policies.for_case(session, case, now)
    task_id = await settlement.hooks().ask_recovery(
        session, case=case, ask=_ask(case, record, event), p=p, now=now
    )
    if task_id is None:
        return None  # asked before: a repeated delivery scan is the same delivery
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.FLAG_DELIVERY_AFTER_PAYOUT,
        actor=SYSTEM,
        now=now,
        # The case's own wait and reason stay as they were: this move records, it does not judge.
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        reason=f"The partner delivered the return to the seller after the case paid it as "
        f"{PAID_AS_UNDELIVERED[record.rule_id]} ({record.rule_id}); the decision stands and "
        "finance is asked to recover or confirm the payout and the partner's debit.",
        decision=record,
        change=DELIVERED_AFTER_LOSS_PAYOUT,
        data={
            "task_id": str(task_id),
            "rule_id": record.rule_id,
            "payout": record.payout,
            "partner_debit": record.partner_debit,
            "delivered_at": event.occurred_at.isoformat(),
            "scan_event_id": str(event.event_id),
        },
    )
    metrics.delivered_after_loss_payout(session, record.rule_id)
    return task_id


def _news_to(record: DecisionRecord, event: ReturnShipmentEvent) -> bool:
    """Whether the delivery contradicts what the decision rested on. L1 and L3 knew of no
    delivery: any delivery scan is news. L5 paid a delivery made without OTP proof: the same
    delivery scanned again is not, a delivery with the seller's OTP (what L4 would have denied
    the claim on) is."""
    known = record.facts
    if known.get("delivered_at") is None:
        return True
    return event.pod_otp_verified is True and known.get("pod_otp_verified") is not True


def _ask(case: Case, record: DecisionRecord, event: ReturnShipmentEvent) -> str:
    paid_as = PAID_AS_UNDELIVERED[record.rule_id]
    settled = "paid" if CaseState(case.state) is not CaseState.DECIDED else "decided to pay"
    return (
        f"Return {case.return_id} was delivered to the seller "
        f"({event.partner_id} scan of {event.occurred_at.isoformat()}) after case {case.case_id} "
        f"{settled} it as {paid_as} ({record.rule_id}): a payout of {record.payout} paise to the "
        f"seller and a debit of {record.partner_debit} paise to {event.partner_id}. Recover or "
        "confirm the payout and reverse or confirm the partner's debit; nothing was posted "
        "automatically."
    )
