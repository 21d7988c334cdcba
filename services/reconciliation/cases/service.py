"""The case state machine: facts arrive, the SOP is re-run, and every change of state becomes a
case event (outbox) and a timeline row with who, when and why.

States: OPEN → AWAITING_EVIDENCE ⇄ … → UNDER_REVIEW | ESCALATED → DECIDED or REJECTED →
APPEALED → DECIDED → CLOSED. A decision is settled in the ledger in the same transaction and the
case closes; a rejection closes when its appeal window ends. Callers hold the case row lock
(`repository.lock_*`) and own the transaction; nothing here commits.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases import repository
from services.reconciliation.facts import batch
from services.reconciliation.facts import repository as facts_repository
from services.reconciliation.facts.service import REFUSED, load_facts, own_scans
from services.reconciliation.ledger import service as ledger
from services.reconciliation.models import Case, Outbox, TimelineEntry
from services.reconciliation.policy.explain import explain, explain_manual
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import (
    FINISHED_STATES,
    OPEN_STATES,
    Amounts,
    Step,
    Verdict,
    above_approval_cap,
    compute_amounts,
    e2_merge_into_open_case,
    e2b_duplicate_claim,
    evaluate_claim,
    evaluate_proactive,
    proactive_trigger,
)
from services.reconciliation.policy.sop_v1 import CURRENT, Policy
from services.reconciliation.timers import repository as timers
from shared.events import (
    AppealFiled,
    CaseAppealed,
    CaseDecided,
    CaseEscalated,
    CaseEventBase,
    CaseNoteAdded,
    CaseOpened,
    CaseOrigin,
    CaseRejected,
    CaseSettled,
    CaseState,
    CaseUnderReview,
    CaseUpdated,
    ClaimType,
    DecisionRecord,
    EvidenceAdded,
    EvidenceRequested,
    FraudAssessed,
    LiableParty,
    Outcome,
    RefundIssued,
    ReturnShipmentEvent,
    SellerEscalationFiled,
)
from shared.outbox import enqueue, outbox_row
from shared.problems import Problem

log = logging.getLogger(__name__)

SOURCE = "disputedesk/reconciliation"
SYSTEM = "system"


class TimerKind(StrEnum):
    FACTS_WAIT = "FACTS_WAIT"
    EVIDENCE_REPLY = "EVIDENCE_REPLY"
    FRAUD_WAIT = "FRAUD_WAIT"
    REVIEW_SLA = "REVIEW_SLA"
    APPEAL_WINDOW = "APPEAL_WINDOW"


# Reviews the SOP itself opened for want of a fact (or of a rule that fits the facts so far) end
# when a fact arrives; fraud reviews and anything a person started stay with the desk.
_REVIEWS_FACTS_CAN_END = frozenset({"MISSING_FACTS", "FRAUD_ASSESSMENT_MISSING", "NO_RULE_MATCHED"})
# Timers whose due time follows the case (rescheduled when it moves); the others keep their
# first due time.
_MOVABLE_TIMERS = frozenset(
    {TimerKind.EVIDENCE_REPLY, TimerKind.REVIEW_SLA, TimerKind.APPEAL_WINDOW}
)


# ---------------------------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _timeline(session: AsyncSession, **row: Any) -> None:
    view = batch.current(session)
    if view is None:
        session.add(TimelineEntry(**row))
    else:
        view.timeline.append(row)  # inserted with the rest of the batch's rows


def _emit(
    session: AsyncSession,
    case: Case,
    event_cls: type[CaseEventBase],
    *,
    state: CaseState,
    actor: str,
    reason: str,
    now: datetime,
    waiting_for: str | None = None,
    reason_code: str | None = None,
    decision: DecisionRecord | None = None,
    kind: str | None = None,
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> CaseEventBase:
    """Move the case (version + 1), record the timeline row and enqueue the case event."""
    previous = CaseState(case.state) if case.version > 0 else None
    if previous is CaseState.UNDER_REVIEW and state is not CaseState.UNDER_REVIEW:
        if case.sla_started_at is not None:
            case.sla_used_s += int((now - case.sla_started_at).total_seconds())
        case.sla_started_at = None
    if state is CaseState.UNDER_REVIEW and previous is not CaseState.UNDER_REVIEW:
        case.sla_started_at = now
    if previous is CaseState.AWAITING_EVIDENCE and state is not CaseState.AWAITING_EVIDENCE:
        case.reply_by = None
        case.evidence_requested_by = None
    case.version += 1
    case.state = state.value
    case.waiting_for = waiting_for
    case.reason_code = reason_code
    case.updated_at = now
    payload = event_cls(
        case_id=case.case_id,
        case_version=case.version,
        return_id=case.return_id,
        seller_id=case.seller_id,
        partner_id=case.partner_id,
        claim_type=ClaimType(case.claim_type) if case.claim_type else None,
        origin=CaseOrigin(case.origin),
        state=state,
        previous_state=previous,
        waiting_for=waiting_for,
        actor=actor,
        reason=reason,
        occurred_at=now,
        decision=decision,
        seller_contact=case.seller_contact,
        claimed_amount=case.claimed_amount,
        **extra,
    )
    record = payload.model_dump(mode="json", exclude={"seller_contact"})
    _timeline(
        session,
        case_id=case.case_id,
        case_version=case.version,
        kind=kind or event_cls.__name__,
        actor=actor,
        reason=reason,
        data={"event": record, **(data or {})},
        occurred_at=now,
    )
    view = batch.current(session)
    if view is None:
        enqueue(session, Outbox, payload, source=SOURCE, subject=case.case_id, time=now)
    else:
        view.outbox.append(outbox_row(payload, source=SOURCE, subject=case.case_id, time=now)[1])
    if previous is not state:
        metrics.case_entered(session, state.value)
    return payload


def _note(
    session: AsyncSession,
    case: Case,
    *,
    kind: str,
    actor: str,
    reason: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """A timeline row that is not a transition (emails sent, late appeals, refunds)."""
    _timeline(
        session,
        case_id=case.case_id,
        case_version=case.version,
        kind=kind,
        actor=actor,
        reason=reason,
        data=_json(data) if data else None,
        occurred_at=now,
    )


def _desired_timer(case: Case, now: datetime, p: Policy) -> tuple[TimerKind, datetime] | None:
    state = CaseState(case.state)
    if state is CaseState.OPEN and case.waiting_for == "PENDING_FACTS":
        return TimerKind.FACTS_WAIT, now + timedelta(hours=p.timers.facts_wait_h)
    if state is CaseState.OPEN and case.waiting_for == "FRAUD_ASSESSMENT":
        return TimerKind.FRAUD_WAIT, now + timedelta(minutes=p.timers.fraud_wait_min)
    if state is CaseState.AWAITING_EVIDENCE and case.reply_by is not None:
        return TimerKind.EVIDENCE_REPLY, case.reply_by
    if state is CaseState.UNDER_REVIEW and case.sla_started_at is not None:
        remaining = timedelta(hours=p.timers.review_sla_h) - timedelta(seconds=case.sla_used_s)
        return TimerKind.REVIEW_SLA, case.sla_started_at + remaining
    if state is CaseState.REJECTED and case.appeal_by is not None:
        return TimerKind.APPEAL_WINDOW, case.appeal_by
    return None


async def _sync_timers(session: AsyncSession, case: Case, now: datetime, p: Policy) -> None:
    """Keep exactly the timer the case's current state needs (the case row mirrors it)."""
    desired = _desired_timer(case, now, p)
    current = TimerKind(case.timer_kind) if case.timer_kind else None
    unchanged = (
        desired is not None
        and desired[0] is current
        and (current not in _MOVABLE_TIMERS or case.timer_due_at == desired[1])
    )
    if unchanged:
        return
    if current is not None:
        await timers.cancel(session, case_id=case.case_id, kinds=[current.value], now=now)
    case.timer_kind = None
    case.timer_due_at = None
    if desired is not None:
        await timers.schedule(
            session, case_id=case.case_id, kind=desired[0].value, due_at=desired[1]
        )
        case.timer_kind = desired[0].value
        case.timer_due_at = desired[1]


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------


def _decision(
    *,
    p: Policy,
    rule_id: str,
    facts: Facts,
    explanation: str,
    decided_by: str,
    now: datetime,
    amounts: Amounts | None = None,
    liable_party: LiableParty | None = None,
    reason_code: str | None = None,
) -> DecisionRecord:
    return DecisionRecord(
        policy_version=p.version,
        rule_id=rule_id,
        outcome=amounts.outcome if amounts else None,
        reason_code=reason_code,
        liable_party=liable_party,
        payout_pct=amounts.payout_pct if amounts else 0,
        payout=amounts.payout if amounts else 0,
        partner_debit=amounts.partner_debit if amounts else 0,
        buyer_receivable=amounts.buyer_receivable if amounts else 0,
        marketplace_cost=amounts.marketplace_cost if amounts else 0,
        facts=facts.as_record(),
        explanation=explanation,
        decided_by=decided_by,
        decided_at=now,
    )


async def _decide_and_settle(
    session: AsyncSession,
    case: Case,
    record: DecisionRecord,
    *,
    actor: str,
    reason: str,
    now: datetime,
    p: Policy,
    reverse_first: bool = False,
) -> None:
    """DECIDED, then the ledger postings and CLOSED, in one transaction."""
    appeal_by = now + timedelta(days=p.windows.appeal_window_days)
    case.decision = record.model_dump(mode="json")
    case.decided_by = actor
    case.decided_at = now
    case.appeal_by = appeal_by
    case.proposal = None
    _emit(
        session,
        case,
        CaseDecided,
        state=CaseState.DECIDED,
        actor=actor,
        reason=reason,
        now=now,
        decision=record,
        reason_code=record.reason_code,
        appeal_by=appeal_by,
    )
    metrics.decision_made(
        session, record.rule_id, record.liable_party.value if record.liable_party else None
    )
    reversals: list[UUID] = []
    if reverse_first:
        reversals = await ledger.reverse_settlements(session, case_id=case.case_id, now=now)
    transaction_id = await ledger.settle(
        session,
        case_id=case.case_id,
        seller_id=case.seller_id,
        partner_id=case.partner_id,
        buyer_id=case.buyer_id,
        decision=record,
        now=now,
    )
    paid_before = case.payout if reverse_first else 0
    case.payout = record.payout
    metrics.paid_out(session, record.payout - paid_before if record.payout > paid_before else 0)
    settled = (
        f"Settled: {record.payout} paise to the seller"
        + (f", {record.partner_debit} recovered from the partner" if record.partner_debit else "")
        + (
            f", {record.buyer_receivable} recovered from the buyer"
            if record.buyer_receivable
            else ""
        )
        + (f"; {len(reversals)} earlier settlement(s) reversed" if reversals else "")
        + "."
    )
    _emit(
        session,
        case,
        CaseSettled,
        state=CaseState.CLOSED,
        actor=actor,
        reason=settled,
        now=now,
        decision=record,
        ledger_transaction_id=transaction_id,
        data={"reversals": [str(r) for r in reversals]},
    )
    await _sync_timers(session, case, now, p)


async def _apply_verdict(
    session: AsyncSession, case: Case, verdict: Verdict, facts: Facts, *, now: datetime, p: Policy
) -> None:
    """Make the case what the SOP says it should be; nothing happens when it already is."""
    state = CaseState(case.state)
    explanation = explain(verdict, facts, p, return_id=case.return_id)
    step = verdict.step
    if step in (Step.WAIT_FACTS, Step.WAIT_FRAUD):
        waiting = "PENDING_FACTS" if step is Step.WAIT_FACTS else "FRAUD_ASSESSMENT"
        if state is CaseState.OPEN and case.waiting_for == waiting:
            return
        _emit(
            session,
            case,
            CaseUpdated,
            state=CaseState.OPEN,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            waiting_for=waiting,
            reason_code=verdict.reason_code,
            change=f"WAITING_FOR_{waiting}",
        )
    elif step is Step.AWAIT_EVIDENCE:
        if state is CaseState.AWAITING_EVIDENCE and case.reason_code == verdict.reason_code:
            return
        if verdict.rule_id == "P2" and facts.delivered_at is not None:
            reply_by = facts.delivered_at + timedelta(hours=p.windows.claim_window_h)
        else:
            reply_by = now + timedelta(hours=p.timers.evidence_reply_h)
        _emit(
            session,
            case,
            EvidenceRequested,
            state=CaseState.AWAITING_EVIDENCE,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            waiting_for="EVIDENCE",
            reason_code=verdict.reason_code,
            checklist=list(verdict.checklist),
            reply_by=reply_by,
        )
        case.reply_by = reply_by
        case.evidence_requested_by = SYSTEM
    elif step is Step.REVIEW:
        if state is CaseState.UNDER_REVIEW and case.reason_code == verdict.reason_code:
            return
        _emit(
            session,
            case,
            CaseUnderReview,
            state=CaseState.UNDER_REVIEW,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            reason_code=verdict.reason_code,
            data={"rule_id": verdict.rule_id},
        )
    elif step is Step.REJECT:
        record = _decision(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            reason_code=verdict.reason_code,
        )
        appeal_by = now + timedelta(days=p.windows.appeal_window_days)
        case.decision = record.model_dump(mode="json")
        case.decided_by = SYSTEM
        case.decided_at = now
        case.appeal_by = appeal_by
        _emit(
            session,
            case,
            CaseRejected,
            state=CaseState.REJECTED,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            reason_code=verdict.reason_code,
            decision=record,
            appeal_by=appeal_by,
        )
        metrics.decision_made(session, verdict.rule_id, None)
    elif step is Step.PROPOSE:
        if state is CaseState.ESCALATED and case.proposal is not None:
            return
        record = _decision(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            amounts=verdict.amounts,
            liable_party=verdict.liable_party,
            reason_code="ABOVE_APPROVAL_CAP",
        )
        case.proposal = record.model_dump(mode="json")
        case.proposed_by = SYSTEM
        _emit(
            session,
            case,
            CaseEscalated,
            state=CaseState.ESCALATED,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            reason_code="ABOVE_APPROVAL_CAP",
            decision=record,
            escalation_reason="ABOVE_APPROVAL_CAP",
        )
    elif step is Step.DECIDE:
        record = _decision(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            amounts=verdict.amounts,
            liable_party=verdict.liable_party,
        )
        await _decide_and_settle(
            session, case, record, actor=SYSTEM, reason=explanation, now=now, p=p
        )
        return
    await _sync_timers(session, case, now, p)


def _verdict_for(case: Case, facts: Facts, now: datetime, p: Policy) -> Verdict:
    if case.primary_escalation_id:
        reply_by_passed = (
            case.reply_by is not None
            and case.evidence_requested_by == SYSTEM
            and now >= case.reply_by
        )
        return evaluate_claim(
            facts,
            p,
            facts_wait_over=case.facts_wait_over,
            reply_by_passed=reply_by_passed,
            fraud_wait_over=case.fraud_wait_over,
        )
    if case.trigger_rule == "P2":
        if case.reply_by is not None and now >= case.reply_by:
            return Verdict(Step.REJECT, "P2", "CLAIM_WINDOW_EXPIRED")
        checklist = p.evidence[ClaimType.MISSING_ITEM].checklist
        return Verdict(Step.AWAIT_EVIDENCE, "P2", "WEIGHT_DROP_CHECKLIST", checklist=checklist)
    return evaluate_proactive(facts, p, fraud_wait_over=case.fraud_wait_over)


def _reevaluable(case: Case) -> bool:
    state = CaseState(case.state)
    if state is CaseState.OPEN:
        return True
    if state is CaseState.AWAITING_EVIDENCE:
        return case.evidence_requested_by == SYSTEM
    # Once someone owns the review, facts no longer move the case under their feet.
    return (
        state is CaseState.UNDER_REVIEW
        and case.reason_code in _REVIEWS_FACTS_CAN_END
        and case.assignee is None
    )


async def _refresh(session: AsyncSession, case: Case) -> Facts:
    facts = await load_facts(session, case=case, return_id=case.return_id)
    case.partner_id = facts.partner_id or case.partner_id
    case.buyer_id = facts.buyer_id or case.buyer_id
    case.fraud_band = facts.fraud_band.value if facts.fraud_band else None
    return facts


async def reevaluate(
    session: AsyncSession, case: Case, *, now: datetime, p: Policy = CURRENT
) -> None:
    facts = await _refresh(session, case)
    if not _reevaluable(case):
        return
    await _apply_verdict(session, case, _verdict_for(case, facts, now, p), facts, now=now, p=p)


# ---------------------------------------------------------------------------------------------
# Facts arriving from Kafka
# ---------------------------------------------------------------------------------------------


def _expected_decision_by(verdict: Verdict, now: datetime, p: Policy) -> datetime:
    auto = timedelta(minutes=p.timers.auto_decision_min)
    if verdict.step in (Step.DECIDE, Step.REJECT):
        return now + auto
    if verdict.step is Step.WAIT_FRAUD:
        return now + timedelta(minutes=p.timers.fraud_wait_min) + auto
    if verdict.step is Step.AWAIT_EVIDENCE:
        return now + timedelta(hours=p.timers.evidence_reply_h) + auto
    if verdict.step is Step.WAIT_FACTS:
        return now + timedelta(hours=p.timers.facts_wait_h + p.timers.review_sla_h)
    return now + timedelta(hours=p.timers.review_sla_h)


async def _open_case(
    session: AsyncSession,
    *,
    return_id: str,
    seller_id: str,
    origin: CaseOrigin,
    reason: str,
    now: datetime,
    p: Policy,
    claim_type: ClaimType | None,
    claimed_amount: int | None,
    seller_contact: str | None = None,
    primary_escalation_id: str | None = None,
    trigger_rule: str | None = None,
    trigger_ce_id: UUID | None = None,
) -> Case:
    case = Case(
        case_id=f"CASE-{uuid4().hex[:12].upper()}",
        return_id=return_id,
        seller_id=seller_id,
        claim_type=claim_type.value if claim_type else None,
        claimed_amount=claimed_amount,
        origin=origin.value,
        trigger_rule=trigger_rule,
        trigger_ce_id=trigger_ce_id,
        primary_escalation_id=primary_escalation_id,
        state=CaseState.OPEN.value,
        version=0,
        seller_contact=seller_contact,
        opened_at=now,
        updated_at=now,
        sla_used_s=0,
        sla_breached=False,
        facts_wait_over=False,
        fraud_wait_over=False,
        payout=0,
    )
    repository.add(session, case)
    await session.flush()
    return case


async def _start(
    session: AsyncSession, case: Case, *, reason: str, now: datetime, p: Policy
) -> None:
    """CaseOpened, then straight on to wherever the SOP puts the case."""
    facts = await _refresh(session, case)
    verdict = _verdict_for(case, facts, now, p)
    _emit(
        session,
        case,
        CaseOpened,
        state=CaseState.OPEN,
        actor=SYSTEM,
        reason=reason,
        now=now,
        expected_decision_by=_expected_decision_by(verdict, now, p),
        trigger_rule=case.trigger_rule,
        data={"trigger_rule": case.trigger_rule},
    )
    await _apply_verdict(session, case, verdict, facts, now=now, p=p)


async def on_return_fact(
    session: AsyncSession, *, return_id: str, now: datetime, p: Policy = CURRENT
) -> None:
    """A return or a partner scan arrived: re-run the case, or open a proactive one (P1–P3)."""
    case = await repository.lock_by_return(session, return_id)
    if case is not None:
        if await _claimed_by_another_seller(session, case, now=now):
            return
        await reevaluate(session, case, now=now, p=p)
        return
    facts = await load_facts(session, case=None, return_id=return_id)
    trigger = proactive_trigger(facts, p)
    if trigger is None or facts.seller_id is None:
        return
    ret = await facts_repository.get_return(session, return_id)
    scans = own_scans(ret, await facts_repository.scans(session, return_id))
    trigger_types = {
        "P1": {"LOST", "DAMAGED_IN_TRANSIT"},
        "P2": {"DELIVERED_TO_SELLER"},
        "P3": {"PICKED_UP"},
    }[trigger.rule_id]
    trigger_scan = next((s for s in reversed(scans) if s.event_type in trigger_types), None)
    assert ret is not None
    case = await _open_case(
        session,
        return_id=return_id,
        seller_id=facts.seller_id,
        origin=CaseOrigin.PROACTIVE,
        reason="",
        now=now,
        p=p,
        claim_type=trigger.claim_type,
        claimed_amount=ret.item_value,
        trigger_rule=trigger.rule_id,
        trigger_ce_id=trigger_scan.ce_id if trigger_scan else None,
    )
    reasons = {
        "P1": "The logistics partner declared the return lost or damaged in transit; the desk "
        "opened a case so the seller does not have to.",
        "P2": "The return reached the seller lighter than it was picked up; the desk opened a "
        "case and asks the seller for the evidence checklist.",
        "P3": "The partner picked the return up although its quality check failed; the desk "
        "opened a case so the seller does not have to.",
    }
    await _start(
        session, case, reason=f"{trigger.rule_id}: {reasons[trigger.rule_id]}", now=now, p=p
    )


def _refused(
    session: AsyncSession,
    case: Case | None,
    *,
    kind: str,
    reason: str,
    detail: str,
    now: datetime,
    data: dict[str, Any],
) -> None:
    """Count, log (ids only) and, when the return has a case, note a fact that is not its
    return's: defence in depth behind intake's own checks."""
    metrics.fact_refused(session, kind, reason)
    log.warning("%s refused (%s): %s", kind, reason, json.dumps(data, default=str))
    if case is not None:
        _note(
            session,
            case,
            kind="FACT_REFUSED",
            actor=SYSTEM,
            now=now,
            reason=detail,
            data={"kind": kind, "reason": reason, **data},
        )


async def refuse_foreign_scan(
    session: AsyncSession, *, event: ReturnShipmentEvent, now: datetime
) -> bool:
    """True (and the scan discarded) when the return is known and another partner's."""
    ret = await facts_repository.get_return(session, event.return_id)
    if ret is None or ret.partner_id == event.partner_id:
        return False
    await facts_repository.discard_scan(session, event)
    _refused(
        session,
        await repository.lock_by_return(session, event.return_id),
        kind="scan",
        reason="partner_mismatch",
        detail=f"A {event.event_type.value} scan from {event.partner_id} was refused: the "
        f"return is assigned to {ret.partner_id}.",
        now=now,
        data={
            "event_id": str(event.event_id),
            "partner_id": event.partner_id,
            "return_id": event.return_id,
        },
    )
    return True


async def _claimed_by_another_seller(session: AsyncSession, case: Case, *, now: datetime) -> bool:
    """The return arrived after a claim opened its case, and names another seller: the case
    goes to the desk (facts no longer move it) instead of paying the claimant."""
    ret = await facts_repository.get_return(session, case.return_id)
    if ret is None or ret.seller_id == case.seller_id:
        return False
    if CaseState(case.state) in OPEN_STATES and case.reason_code != "SELLER_MISMATCH":
        metrics.fact_refused(session, "escalation", "seller_mismatch")
        log.warning("case %s: claimant is not the return's seller", case.case_id)
        _emit(
            session,
            case,
            CaseUnderReview,
            state=CaseState.UNDER_REVIEW,
            actor=SYSTEM,
            now=now,
            reason="The claim on this case was filed by a seller other than the return's; "
            "the desk checks it before anything is paid.",
            reason_code="SELLER_MISMATCH",
        )
        await _sync_timers(session, case, now, CURRENT)
    return True


async def on_escalation(
    session: AsyncSession,
    *,
    escalation: SellerEscalationFiled,
    ce_id: UUID,
    now: datetime,
    p: Policy = CURRENT,
) -> None:
    if not await facts_repository.store_escalation(session, escalation, ce_id):
        return
    record = await facts_repository.get_escalation(session, escalation.escalation_id)
    assert record is not None
    case = await repository.lock_by_return(session, escalation.return_id)
    ret = await facts_repository.get_return(session, escalation.return_id)
    if ret is not None and ret.seller_id != escalation.seller_id:
        record.disposition = REFUSED
        _refused(
            session,
            case,
            kind="escalation",
            reason="seller_mismatch",
            detail=f"Escalation {escalation.escalation_id} was refused: it was filed by a seller "
            "other than the return's.",
            now=now,
            data={"escalation_id": escalation.escalation_id, "return_id": escalation.return_id},
        )
        return
    state = CaseState(case.state) if case else None
    label = f"{escalation.claim_type.value} claim {escalation.escalation_id}"

    if case is None:
        record.disposition = "PRIMARY"
        case = await _open_case(
            session,
            return_id=escalation.return_id,
            seller_id=escalation.seller_id,
            origin=CaseOrigin.SELLER,
            reason="",
            now=now,
            p=p,
            claim_type=escalation.claim_type,
            claimed_amount=escalation.claimed_amount,
            seller_contact=record.seller_contact,
            primary_escalation_id=escalation.escalation_id,
        )
        record.case_id = case.case_id
        await _start(
            session,
            case,
            now=now,
            p=p,
            reason=f"Seller filed {label} through {escalation.channel.value.lower()}.",
        )
        return

    record.case_id = case.case_id
    merge = e2_merge_into_open_case(state)
    if merge is not None:
        adopt = case.primary_escalation_id is None
        record.disposition = "PRIMARY" if adopt else "MERGED"
        if adopt:
            # A proactive case meets the seller's own claim: the claim governs from now on.
            case.primary_escalation_id = escalation.escalation_id
            case.claim_type = escalation.claim_type.value
            case.claimed_amount = escalation.claimed_amount
            case.seller_contact = record.seller_contact or case.seller_contact
        elif case.seller_contact is None:
            case.seller_contact = record.seller_contact
        _emit(
            session,
            case,
            CaseUpdated,
            state=state,
            actor=SYSTEM,  # type: ignore[arg-type]
            reason=f"E2: {label} merged into the open case of this return.",
            now=now,
            waiting_for=case.waiting_for,
            reason_code=case.reason_code,
            change="ESCALATION_MERGED",
        )
        if adopt and state in (CaseState.AWAITING_EVIDENCE, CaseState.OPEN):
            case.evidence_requested_by = SYSTEM if state is CaseState.AWAITING_EVIDENCE else None
        await reevaluate(session, case, now=now, p=p)
        return

    previous = decision_of(case)
    if (
        previous is not None
        and previous.rule_id == "E3b"
        and state in (CaseState.REJECTED, CaseState.CLOSED)
    ):
        # E3b told the seller to file again once the waiting period is over: that new filing
        # reopens the case instead of being turned away as a duplicate.
        record.disposition = "PRIMARY"
        case.primary_escalation_id = escalation.escalation_id
        case.claim_type = escalation.claim_type.value
        case.claimed_amount = escalation.claimed_amount
        case.seller_contact = record.seller_contact or case.seller_contact
        case.decision = None
        case.decided_at = None
        case.appeal_by = None
        case.facts_wait_over = False
        case.fraud_wait_over = False
        await _cancel_primary(session, case)
        _emit(
            session,
            case,
            CaseUpdated,
            state=CaseState.OPEN,
            actor=SYSTEM,
            now=now,
            reason=f"The seller filed again ({label}) after a premature claim; the case reopens.",
            change="REOPENED",
        )
        await reevaluate(session, case, now=now, p=p)
        return

    duplicate = e2b_duplicate_claim(state, is_appeal=False)
    if duplicate is not None:
        record.disposition = "DUPLICATE"
        facts = await load_facts(session, case=case, return_id=case.return_id)
        explanation = explain(duplicate, facts, p, return_id=case.return_id)
        decision = _decision(
            p=p,
            rule_id="E2b",
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            reason_code="DUPLICATE_CLAIM",
        )
        _emit(
            session,
            case,
            CaseUpdated,
            state=state,
            actor=SYSTEM,  # type: ignore[arg-type]
            reason=explanation,
            now=now,
            waiting_for=case.waiting_for,
            reason_code=case.reason_code,
            decision=decision,
            change="DUPLICATE_CLAIM_REJECTED",
            appeal_by=case.appeal_by,  # the seller's next date on the first case
            data={"escalation_id": escalation.escalation_id},
        )
        metrics.decision_made(session, "E2b", None)


async def _cancel_primary(session: AsyncSession, case: Case) -> None:
    """The earlier filing stops being the case's claim (it stays on record)."""
    for e in await facts_repository.escalations(session, case.return_id):
        if (
            e.case_id == case.case_id
            and e.disposition == "PRIMARY"
            and e.escalation_id != case.primary_escalation_id
        ):
            e.disposition = "SUPERSEDED"


async def on_evidence(
    session: AsyncSession, *, event: EvidenceAdded, ce_id: UUID, now: datetime, p: Policy = CURRENT
) -> None:
    if not await facts_repository.store_evidence(session, event, ce_id):
        return
    case = await repository.lock_by_return(session, event.return_id)
    escalation = await facts_repository.get_escalation(session, event.escalation_id)
    if escalation is not None and (
        escalation.disposition == REFUSED or escalation.seller_id != event.seller_id
    ):
        # Kept on record, never read as a fact (`load_facts` skips refused escalations').
        _refused(
            session,
            case,
            kind="evidence",
            reason="seller_mismatch",
            detail=f"Evidence for escalation {event.escalation_id} was refused: it is not a "
            "claim of this return's seller.",
            now=now,
            data={"escalation_id": event.escalation_id, "return_id": event.return_id},
        )
        return
    if case is None:
        return  # kept; the case that opens later reads it
    state = CaseState(case.state)
    kinds = ", ".join(sorted({e.kind.value for e in event.evidence})) or "a received weight"
    if state not in OPEN_STATES:
        _note(
            session,
            case,
            kind="EVIDENCE_ADDED",
            actor=event.seller_id,
            now=now,
            reason=f"Evidence added after the decision ({kinds}).",
        )
        return
    _emit(
        session,
        case,
        CaseUpdated,
        state=state,
        actor=event.seller_id,
        now=now,
        reason=f"The seller added evidence: {kinds}.",
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        change="EVIDENCE_ADDED",
    )
    if state is CaseState.AWAITING_EVIDENCE and case.evidence_requested_by not in (None, SYSTEM):
        requester = case.evidence_requested_by
        _emit(
            session,
            case,
            CaseUnderReview,
            state=CaseState.UNDER_REVIEW,
            actor=SYSTEM,
            now=now,
            reason=f"The evidence {requester} asked for arrived; the case is back with the desk.",
            reason_code="EVIDENCE_RECEIVED",
        )
        await _sync_timers(session, case, now, p)
        return
    await reevaluate(session, case, now=now, p=p)


async def on_refund(session: AsyncSession, *, event: RefundIssued, now: datetime) -> None:
    """The buyer's refund is part of the return's story; the SOP does not read it."""
    case = await repository.get_by_return(session, event.return_id)
    if case is not None:
        _note(
            session,
            case,
            kind="REFUND_ISSUED",
            actor="marketplace",
            now=now,
            reason=f"Refund {event.refund_id} of {event.amount} paise issued to the buyer.",
            data={"refund_id": event.refund_id, "amount": event.amount},
        )


async def on_assessment(
    session: AsyncSession, *, event: FraudAssessed, now: datetime, p: Policy = CURRENT
) -> None:
    if not await facts_repository.store_assessment(session, event):
        return
    case = await repository.lock_by_return(session, event.return_id)
    if case is None:
        return
    if event.revision:
        # Fraud learnt more about a party after the first assessment. An undecided case is
        # decided on the new band below; a decided one keeps its decision, and the desk sees
        # why it may want to revisit it (an appeal, a recovery).
        top = event.reasons[0] if event.reasons else None
        _note(
            session,
            case,
            kind="FRAUD_REASSESSED",
            actor="fraud",
            now=now,
            reason=f"Fraud re-assessed this return {event.band.value} (revision "
            f"{event.revision})" + (f": {top.code} {top.detail}" if top else "."),
            data={"assessment_id": str(event.assessment_id), "revision": event.revision,
                  "band": event.band.value, "score": event.score},
        )
    await reevaluate(session, case, now=now, p=p)


async def on_appeal(
    session: AsyncSession, *, event: AppealFiled, ce_id: UUID, now: datetime, p: Policy = CURRENT
) -> None:
    case = await repository.lock_by_return(session, event.return_id)
    state = CaseState(case.state) if case else None
    escalation = await facts_repository.get_escalation(session, event.escalation_id)
    if (escalation is not None and escalation.disposition == REFUSED) or (
        case is not None and event.seller_id != case.seller_id
    ):
        await facts_repository.store_appeal(session, event, ce_id, REFUSED)
        _refused(
            session,
            case,
            kind="appeal",
            reason="seller_mismatch",
            detail=f"An appeal on escalation {event.escalation_id} was refused: it is not by "
            "this case's seller.",
            now=now,
            data={"escalation_id": event.escalation_id, "return_id": event.return_id},
        )
        return
    if case is None or state not in FINISHED_STATES or case.decided_at is None:
        await facts_repository.store_appeal(session, event, ce_id, "NOTHING_TO_APPEAL")
        if case is not None:
            _note(
                session,
                case,
                kind="APPEAL_IGNORED",
                actor=event.seller_id,
                now=now,
                reason="An appeal arrived but the case has no decision to appeal yet.",
            )
        return
    if state is CaseState.APPEALED:
        await facts_repository.store_appeal(session, event, ce_id, "ALREADY_APPEALED")
        _note(
            session,
            case,
            kind="APPEAL_REPEATED",
            actor=event.seller_id,
            now=now,
            reason="A further appeal arrived while the first one is open.",
        )
        return
    if case.appeal_by is not None and event.filed_at > case.appeal_by:
        await facts_repository.store_appeal(session, event, ce_id, "LATE")
        _note(
            session,
            case,
            kind="APPEAL_LATE",
            actor=event.seller_id,
            now=now,
            reason=f"Appeal filed {event.filed_at.isoformat()}, after the appeal window "
            f"closed at {case.appeal_by.isoformat()}.",
        )
        return
    if not await facts_repository.store_appeal(session, event, ce_id, "ACCEPTED"):
        return
    _emit(
        session,
        case,
        CaseAppealed,
        state=CaseState.APPEALED,
        actor=event.seller_id,
        now=now,
        reason=f"The seller appealed: {event.reason}",
        decision=None,
        data={"escalation_id": event.escalation_id},
    )
    await _sync_timers(session, case, now, p)


# ---------------------------------------------------------------------------------------------
# Timers
# ---------------------------------------------------------------------------------------------


async def on_timer(
    session: AsyncSession, case: Case, *, kind: str, now: datetime, p: Policy = CURRENT
) -> None:
    state = CaseState(case.state)
    if kind == TimerKind.FACTS_WAIT and state is CaseState.OPEN:
        case.facts_wait_over = True
        await reevaluate(session, case, now=now, p=p)
    elif kind == TimerKind.FRAUD_WAIT and state is CaseState.OPEN:
        case.fraud_wait_over = True
        await reevaluate(session, case, now=now, p=p)
    elif kind == TimerKind.EVIDENCE_REPLY and state is CaseState.AWAITING_EVIDENCE:
        if case.evidence_requested_by == SYSTEM:
            await reevaluate(session, case, now=now, p=p)
        else:
            _emit(
                session,
                case,
                CaseUnderReview,
                state=CaseState.UNDER_REVIEW,
                actor=SYSTEM,
                now=now,
                reason_code="EVIDENCE_NOT_PROVIDED",
                reason="The evidence the desk asked for did not arrive by the reply-by time.",
            )
            await _sync_timers(session, case, now, p)
    elif kind == TimerKind.REVIEW_SLA and state is CaseState.UNDER_REVIEW:
        case.sla_breached = True
        _emit(
            session,
            case,
            CaseEscalated,
            state=CaseState.ESCALATED,
            actor=SYSTEM,
            now=now,
            reason=f"The case was under review for {p.timers.review_sla_h} hours without a "
            "decision; management is alerted.",
            reason_code="SLA_BREACHED",
            escalation_reason="SLA_BREACHED",
        )
        metrics.sla_breached(session)
        await _sync_timers(session, case, now, p)
    elif kind == TimerKind.APPEAL_WINDOW and state is CaseState.REJECTED:
        _emit(
            session,
            case,
            CaseUpdated,
            state=CaseState.CLOSED,
            actor=SYSTEM,
            now=now,
            reason="The appeal window ended without an appeal; the rejection is final.",
            reason_code=case.reason_code,
            change="CLOSED",
        )
        await _sync_timers(session, case, now, p)


# ---------------------------------------------------------------------------------------------
# The review desk
# ---------------------------------------------------------------------------------------------

DESK_DECIDABLE = frozenset(
    {CaseState.OPEN, CaseState.AWAITING_EVIDENCE, CaseState.UNDER_REVIEW, CaseState.ESCALATED}
)


async def _locked(session: AsyncSession, case_id: str) -> Case:
    case = await repository.lock(session, case_id)
    if case is None:
        raise Problem(404, "Not found", f"No case {case_id}.")
    return case


def _conflict(case: Case, action: str) -> Problem:
    return Problem(409, "Conflict", f"Case {case.case_id} is {case.state}; cannot {action}.")


async def assign(
    session: AsyncSession, *, case_id: str, assignee: str, actor: str, now: datetime
) -> Case:
    case = await _locked(session, case_id)
    case.assignee = assignee
    _emit(
        session,
        case,
        CaseUpdated,
        state=CaseState(case.state),
        actor=actor,
        now=now,
        reason=f"Assigned to {assignee}.",
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        change="ASSIGNED",
        data={"assignee": assignee},
    )
    return case


async def add_note(
    session: AsyncSession,
    *,
    case_id: str,
    note: str,
    actor: str,
    now: datetime,
    kind: str = "NOTE",
    data: dict[str, Any] | None = None,
) -> Case:
    case = await _locked(session, case_id)
    _emit(
        session,
        case,
        CaseNoteAdded,
        state=CaseState(case.state),
        actor=actor,
        now=now,
        reason=note,
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        note=note,
        kind=kind,
        data=data,
    )
    return case


async def request_evidence(
    session: AsyncSession,
    *,
    case_id: str,
    checklist: list[str],
    reason: str,
    actor: str,
    now: datetime,
    p: Policy = CURRENT,
) -> Case:
    case = await _locked(session, case_id)
    if CaseState(case.state) not in DESK_DECIDABLE:
        raise _conflict(case, "request evidence")
    reply_by = now + timedelta(hours=p.timers.evidence_reply_h)
    _emit(
        session,
        case,
        EvidenceRequested,
        state=CaseState.AWAITING_EVIDENCE,
        actor=actor,
        now=now,
        reason=reason,
        waiting_for="EVIDENCE",
        reason_code="DESK_REQUEST",
        checklist=checklist,
        reply_by=reply_by,
    )
    case.reply_by = reply_by
    case.evidence_requested_by = actor
    await _sync_timers(session, case, now, p)
    return case


async def escalate(
    session: AsyncSession,
    *,
    case_id: str,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy = CURRENT,
) -> Case:
    case = await _locked(session, case_id)
    if CaseState(case.state) not in DESK_DECIDABLE - {CaseState.ESCALATED}:
        raise _conflict(case, "escalate")
    _emit(
        session,
        case,
        CaseEscalated,
        state=CaseState.ESCALATED,
        actor=actor,
        now=now,
        reason=reason,
        reason_code="MANUAL",
        escalation_reason="MANUAL",
    )
    await _sync_timers(session, case, now, p)
    return case


def _manual_record(
    case: Case,
    facts: Facts,
    *,
    rule_id: str,
    liable_party: LiableParty,
    payout_pct: int,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy,
) -> DecisionRecord:
    amounts = compute_amounts(
        claimed_amount=case.claimed_amount or facts.item_value or 0,
        item_value=facts.item_value,
        payout_pct=payout_pct,
        liable_party=liable_party,
        partner_id=case.partner_id,
        p=p,
    )
    explanation = explain_manual(
        return_id=case.return_id,
        reason=reason,
        payout=amounts.payout,
        base=amounts.base,
        payout_pct=payout_pct,
        liable_party=liable_party,
        p=p,
    )
    return _decision(
        p=p,
        rule_id=rule_id,
        facts=facts,
        explanation=explanation,
        decided_by=actor,
        now=now,
        amounts=amounts,
        liable_party=liable_party,
    )


async def decide(
    session: AsyncSession,
    *,
    case_id: str,
    rule_id: str,
    liable_party: LiableParty,
    payout_pct: int,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy = CURRENT,
) -> Case:
    """A person decides (or overrides the SOP's proposal). Up to the approval cap an ops_agent's
    decision stands; above it, anyone's decision is a proposal that an ops_manager other than the
    proposer must approve (four eyes)."""
    case = await _locked(session, case_id)
    if CaseState(case.state) not in DESK_DECIDABLE:
        raise _conflict(case, "decide")
    facts = await _refresh(session, case)
    record = _manual_record(
        case,
        facts,
        rule_id=rule_id,
        liable_party=liable_party,
        payout_pct=payout_pct,
        reason=reason,
        actor=actor,
        now=now,
        p=p,
    )
    if above_approval_cap(record.payout, p):
        case.proposal = record.model_dump(mode="json")
        case.proposed_by = actor
        _emit(
            session,
            case,
            CaseEscalated,
            state=CaseState.ESCALATED,
            actor=actor,
            now=now,
            reason=f"Proposed {record.payout} paise, above the approval cap of "
            f"{p.approval_cap_paise}: an ops_manager other than {actor} must approve. "
            f"{reason}",
            reason_code="ABOVE_APPROVAL_CAP",
            decision=record,
            escalation_reason="ABOVE_APPROVAL_CAP",
        )
        await _sync_timers(session, case, now, p)
        return case
    await _decide_and_settle(session, case, record, actor=actor, reason=reason, now=now, p=p)
    return case


async def approve(
    session: AsyncSession,
    *,
    case_id: str,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy = CURRENT,
) -> Case:
    case = await _locked(session, case_id)
    if CaseState(case.state) is not CaseState.ESCALATED or case.proposal is None:
        raise _conflict(case, "approve (no proposal awaits approval)")
    if case.proposed_by == actor:
        raise Problem(
            403, "Forbidden", "Four eyes: the person who proposed a decision cannot approve it."
        )
    proposal = DecisionRecord.model_validate(case.proposal)
    record = proposal.model_copy(update={"decided_by": actor, "decided_at": now})
    proposer = case.proposed_by
    await _decide_and_settle(
        session,
        case,
        record,
        actor=actor,
        now=now,
        p=p,
        reason=f"Approved the decision proposed by {proposer}. {reason}".strip(),
    )
    case.proposed_by = proposer
    return case


async def decide_appeal(
    session: AsyncSession,
    *,
    case_id: str,
    overturn: bool,
    reason: str,
    actor: str,
    now: datetime,
    liable_party: LiableParty | None = None,
    payout_pct: int | None = None,
    rule_id: str = "APPEAL",
    p: Policy = CURRENT,
) -> Case:
    case = await _locked(session, case_id)
    if CaseState(case.state) is not CaseState.APPEALED:
        raise _conflict(case, "decide an appeal")
    if actor in {case.decided_by, case.proposed_by}:
        raise Problem(
            403,
            "Forbidden",
            "An appeal is decided by an ops_manager other than the original decider.",
        )
    facts = await _refresh(session, case)
    if overturn:
        if liable_party is None or payout_pct is None:
            raise Problem(
                422,
                "Validation failed",
                "Overturning needs liable_party and payout_pct.",
                errors=[{"field": "liable_party", "message": "required to overturn"}],
            )
        record = _manual_record(
            case,
            facts,
            rule_id=rule_id,
            liable_party=liable_party,
            payout_pct=payout_pct,
            reason=reason,
            actor=actor,
            now=now,
            p=p,
        )
        await _decide_and_settle(
            session, case, record, actor=actor, reason=reason, now=now, p=p, reverse_first=True
        )
        return case
    previous = DecisionRecord.model_validate(case.decision)
    record = previous.model_copy(
        update={
            "decided_by": actor,
            "decided_at": now,
            "rule_id": previous.rule_id,
            "explanation": f"About your return {case.return_id}: we looked at your appeal again "
            f"and the earlier decision stands: {reason.strip().rstrip('.')}. "
            + previous.explanation.split(": ", 1)[-1],
        }
    )
    appeal_by = case.appeal_by
    case.decision = record.model_dump(mode="json")
    case.decided_by = actor
    case.decided_at = now
    _emit(
        session,
        case,
        CaseDecided,
        state=CaseState.DECIDED,
        actor=actor,
        now=now,
        reason=f"Appeal dismissed: {reason}",
        decision=record,
        appeal_by=None,
        reason_code="APPEAL_UPHELD_ORIGINAL",
    )
    _emit(
        session,
        case,
        CaseSettled,
        state=CaseState.CLOSED,
        actor=actor,
        now=now,
        reason="The original settlement stands; nothing new is posted.",
        decision=record,
    )
    case.appeal_by = appeal_by
    await _sync_timers(session, case, now, p)
    return case


def decision_of(case: Case) -> DecisionRecord | None:
    return DecisionRecord.model_validate(case.decision) if case.decision else None


def outcome_of(case: Case) -> Outcome | None:
    record = decision_of(case)
    return record.outcome if record else None


def record_delivery(
    session: AsyncSession, case: Case, *, kind: str, reason: str, at: datetime, data: dict[str, Any]
) -> None:
    """An email about the case went out (or could not): part of the case's story, not a move."""
    _note(session, case, kind=kind, actor="notifications", reason=reason, now=at, data=data)
