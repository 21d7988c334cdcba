"""The deadline each case state needs (facts wait, evidence reply-by, fraud wait, review SLA,
appeal window), kept as exactly one durable timer row per case."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.timers import repository as timers
from shared.events import (
    CaseState,
)


class TimerKind(StrEnum):
    FACTS_WAIT = "FACTS_WAIT"
    SCAN_WAIT = "SCAN_WAIT"
    EVIDENCE_REPLY = "EVIDENCE_REPLY"
    FRAUD_WAIT = "FRAUD_WAIT"
    REVIEW_SLA = "REVIEW_SLA"
    APPEAL_WINDOW = "APPEAL_WINDOW"
    # The date the seller was promised for a person's decision on an escalated or appealed
    # case (`CaseEscalated` / `CaseAppealed.decision_due_by`): passing it flags the case as
    # breaching its SLA and gives the seller a new date (`timer_loop.on_timer`).
    DECISION_DUE = "DECISION_DUE"


# Timers whose due time follows the case (rescheduled when it moves); the others keep their
# first due time.
_MOVABLE_TIMERS = frozenset(
    {TimerKind.EVIDENCE_REPLY, TimerKind.REVIEW_SLA, TimerKind.APPEAL_WINDOW}
)


def desired_timer(case: Case, now: datetime, p: Policy) -> tuple[TimerKind, datetime] | None:
    state = CaseState(case.state)
    if state is CaseState.OPEN and case.waiting_for == "PENDING_FACTS":
        return TimerKind.FACTS_WAIT, now + timedelta(hours=p.timers.facts_wait_h)
    if state is CaseState.OPEN and case.waiting_for == "PENDING_SCANS":
        return TimerKind.SCAN_WAIT, now + timedelta(minutes=p.timers.scan_wait_min)
    if state is CaseState.OPEN and case.waiting_for == "FRAUD_ASSESSMENT":
        return TimerKind.FRAUD_WAIT, now + timedelta(minutes=p.timers.fraud_wait_min)
    if state is CaseState.AWAITING_EVIDENCE and case.reply_by is not None:
        return TimerKind.EVIDENCE_REPLY, case.reply_by
    if state is CaseState.UNDER_REVIEW and case.sla_started_at is not None:
        remaining = timedelta(hours=p.timers.review_sla_h) - timedelta(seconds=case.sla_used_s)
        return TimerKind.REVIEW_SLA, case.sla_started_at + remaining
    if state is CaseState.REJECTED and case.appeal_by is not None:
        return TimerKind.APPEAL_WINDOW, case.appeal_by
    # Not movable: armed with the same `now` as the event that states the date, it keeps that
    # date while the case stays; an overdue decision re-arms it with the new one.
    if state is CaseState.ESCALATED:
        return TimerKind.DECISION_DUE, escalation_due_by(now, p)
    if state is CaseState.APPEALED:
        return TimerKind.DECISION_DUE, appeal_due_by(now, p)
    return None


def review_due_by(case: Case, now: datetime, p: Policy) -> datetime:
    """When a review starting now must end: the SLA minus what earlier reviews used. Told to
    the seller as the new date for the decision."""
    return now + timedelta(hours=p.timers.review_sla_h) - timedelta(seconds=case.sla_used_s)


def escalation_due_by(now: datetime, p: Policy) -> datetime:
    """When management should have acted on a case escalated now: the policy's hours for the
    management team (as for any task asked of it). Told to the seller as the next step's date;
    a policy without a management entry falls back on the review SLA."""
    hours = p.task_sla_h.get("management", p.timers.review_sla_h)
    return now + timedelta(hours=hours)


def appeal_due_by(now: datetime, p: Policy) -> datetime:
    """When an appeal filed now is due to be decided: an appeal is a second review, held to the
    review SLA. Told to the seller in the appeal's acknowledgement."""
    return now + timedelta(hours=p.timers.review_sla_h)


def management_alert_after(now: datetime, p: Policy) -> datetime:
    """When management hears again of a decision still overdue: once per management day."""
    return escalation_due_by(now, p)


def break_promise(case: Case, now: datetime, p: Policy) -> datetime:
    """The decision date the seller held passed undecided: count it broken and give the next
    one, management's hours doubled per date already broken (24 h, 48 h, 96 h …, at most
    `overdue_promise_max_h`). A date given again and again at the same short distance is one no
    seller believes, and an apology every day is noise; the alert to management stays daily."""
    case.decision_promises_broken += 1
    hours = p.task_sla_h.get("management", p.timers.review_sla_h)
    spacing = min(hours * 2 ** (case.decision_promises_broken - 1), p.timers.overdue_promise_max_h)
    case.decision_promised_by = now + timedelta(hours=spacing)
    return case.decision_promised_by


def next_step_by(case: Case, p: Policy) -> datetime | None:
    """When the seller of an open case hears next, for a filing merged into it: the reply-by
    of the evidence it waits for; the review SLA's end; for a case still waiting for facts,
    the end of that wait plus a review (the latest, as the acknowledgement promises); for an
    escalated case, the date management is held to; for an appealed one (a duplicate filing's
    answer), the date the appeal's result is due. None where no deadline runs."""
    state = CaseState(case.state)
    if state is CaseState.AWAITING_EVIDENCE:
        return case.reply_by
    if state is CaseState.UNDER_REVIEW and case.timer_kind == TimerKind.REVIEW_SLA:
        return case.timer_due_at
    if state in (CaseState.ESCALATED, CaseState.APPEALED):
        # The seller's date, not the timer's: the timer also wakes for management's daily alert.
        return case.decision_promised_by
    if state is CaseState.OPEN and case.timer_due_at is not None:
        return case.timer_due_at + timedelta(hours=p.timers.review_sla_h)
    return None


async def rearm(session: AsyncSession, case: Case, *, kind: TimerKind, due_at: datetime) -> None:
    """Arm `kind` at `due_at` on a case whose timer just fired (none pending): for a deadline
    moved by its own passing, which `desired_timer` (first arming) cannot know."""
    await timers.schedule(session, case_id=case.case_id, kind=kind.value, due_at=due_at)
    case.timer_kind = kind.value
    case.timer_due_at = due_at


async def hold_decision_date(
    session: AsyncSession, case: Case, due_by: datetime, *, now: datetime, p: Policy
) -> None:
    """The timers of the case's state, with `DECISION_DUE` held to a date the seller was given
    before this step began (an appeal set aside by a partner's record and heard again), not
    one counted from now."""
    await sync_timers(session, case, now, p)
    if case.timer_kind != TimerKind.DECISION_DUE.value or case.timer_due_at == due_by:
        return
    await timers.cancel(
        session, case_id=case.case_id, kinds=[TimerKind.DECISION_DUE.value], now=now
    )
    await rearm(session, case, kind=TimerKind.DECISION_DUE, due_at=due_by)
    case.decision_promised_by = due_by


async def sync_timers(session: AsyncSession, case: Case, now: datetime, p: Policy) -> None:
    """Keep exactly the timer the case's current state needs (the case row mirrors it)."""
    desired = desired_timer(case, now, p)
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
        if desired[0] is TimerKind.DECISION_DUE:
            # A fresh step with management or a manager: the date its event gives the seller.
            case.decision_promised_by = desired[1]
            case.decision_promises_broken = 0
