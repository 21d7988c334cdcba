"""Deadlines firing: the loop that finds due timers and what each timer does to its case.
Each timer fires in its own transaction, case row locked first, then the timer row, both with
SKIP LOCKED so several replicas (or a busy consumer) never block one another."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reconciliation import metrics
from services.reconciliation.cases.deadlines import (
    TimerKind,
    break_promise,
    escalation_due_by,
    management_alert_after,
    rearm,
    review_due_by,
    sync_timers,
)
from services.reconciliation.cases.decisions import reevaluate
from services.reconciliation.cases.timeline import SYSTEM, emit
from services.reconciliation.cases.transitions import Move
from services.reconciliation.models import Case
from services.reconciliation.policy import service as policies
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.timers import repository
from shared.app import ServiceRuntime
from shared.events import (
    CaseEscalated,
    CaseState,
    CaseUnderReview,
    CaseUpdated,
)
from shared.wakeups import TIMERS_CHANNEL

log = logging.getLogger(__name__)


async def on_timer(
    session: AsyncSession, case: Case, *, kind: str, now: datetime, p: Policy | None = None
) -> None:
    p = p or await policies.for_case(session, case, now)
    state = CaseState(case.state)
    if kind in (TimerKind.FACTS_WAIT, TimerKind.SCAN_WAIT) and state is CaseState.OPEN:
        # One flag for both E1 waits: the scan wait is armed only once the needed facts are
        # known (and facts are never unlearned), so after it only the scans go unwaited for.
        case.facts_wait_over = True
        await reevaluate(session, case, now=now, p=p)
    elif kind == TimerKind.FRAUD_WAIT and state is CaseState.OPEN:
        case.fraud_wait_over = True
        await reevaluate(session, case, now=now, p=p)
    elif kind == TimerKind.EVIDENCE_REPLY and state is CaseState.AWAITING_EVIDENCE:
        if case.evidence_requested_by == SYSTEM:
            await reevaluate(session, case, now=now, p=p)
        else:
            emit(
                session,
                case,
                CaseUnderReview,
                move=Move.SEND_TO_REVIEW,
                actor=SYSTEM,
                now=now,
                reason_code="EVIDENCE_NOT_PROVIDED",
                reason="The evidence the desk asked for did not arrive by the reply-by time.",
                decision_due_by=review_due_by(case, now, p),
            )
            await sync_timers(session, case, now, p)
    elif kind == TimerKind.REVIEW_SLA and state is CaseState.UNDER_REVIEW:
        case.sla_breached = True
        emit(
            session,
            case,
            CaseEscalated,
            move=Move.ESCALATE,
            actor=SYSTEM,
            now=now,
            reason=f"The case was under review for {p.timers.review_sla_h} hours without a "
            "decision; management is alerted.",
            reason_code="SLA_BREACHED",
            escalation_reason="SLA_BREACHED",
            decision_due_by=escalation_due_by(now, p),
        )
        metrics.sla_breached(session)
        await sync_timers(session, case, now, p)
    elif kind == TimerKind.DECISION_DUE and state in (CaseState.ESCALATED, CaseState.APPEALED):
        await _decision_overdue(session, case, state=state, now=now, p=p)
    elif kind == TimerKind.APPEAL_WINDOW and state is CaseState.REJECTED:
        emit(
            session,
            case,
            CaseUpdated,
            move=Move.CLOSE_UNAPPEALED,
            actor=SYSTEM,
            now=now,
            reason="The appeal window ended without an appeal; the rejection is final.",
            reason_code=case.reason_code,
            change="CLOSED",
        )
        await sync_timers(session, case, now, p)


async def _decision_overdue(
    session: AsyncSession, case: Case, *, state: CaseState, now: datetime, p: Policy
) -> None:
    """A person's decision is overdue. The SOP's SLA rule (a review undecided in time goes up to
    management, with an alert) applied to the steps already with management or a manager: the
    case is flagged as breaching its SLA (the queue's `sla_breached` filter puts it first in
    line) and management is alerted, every management day until it is decided. The seller hears
    only when the date they hold passes: one apology per broken date, with a new date further
    out each time (`deadlines.break_promise`), held by the same timer."""
    case.sla_breached = True
    what = "appeal" if state is CaseState.APPEALED else "escalated case"
    promised = case.decision_promised_by
    if promised is None or promised <= now:
        change = "DECISION_OVERDUE"
        promised = break_promise(case, now, p)
        metrics.sla_breached(session)  # a broken date is a breach; a reminder of it is not
        reason = (
            f"The date promised to the seller for a decision on the {what} passed without one; "
            "management is alerted and the seller given a new date."
        )
    else:
        change = "DECISION_STILL_OVERDUE"
        reason = (
            f"The decision on the {what} is still overdue; management is alerted again. The "
            "seller's new date has not passed."
        )
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.DECISION_OVERDUE,
        actor=SYSTEM,
        now=now,
        reason=reason,
        reason_code=case.reason_code,
        change=change,
        next_step_by=promised,
    )
    due = min(management_alert_after(now, p), promised)
    await rearm(session, case, kind=TimerKind.DECISION_DUE, due_at=due)


async def fire_due(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, limit: int = 100
) -> int:
    async with sessionmaker() as session:
        candidates = await repository.due(session, now=now, limit=limit)
    fired = 0
    for timer_id, case_id in candidates:
        try:
            async with sessionmaker() as session, session.begin():
                claimed = await repository.claim(
                    session, timer_id=timer_id, case_id=case_id, now=now
                )
                if claimed is None:
                    continue
                case, timer = claimed
                timer.fired_at = now
                if case.timer_kind == timer.kind:
                    case.timer_kind = None
                    case.timer_due_at = None
                await on_timer(session, case, kind=timer.kind, now=now)
                fired += 1
        except Exception:  # this timer stays due and is retried on the next round
            log.exception("timer failed", extra={"timer_id": timer_id, "case_id": case_id})
    return fired


async def timer_loop(runtime: ServiceRuntime) -> None:
    """Background loop of the app: fire what the clock says is due, then sleep until the next
    timer falls due or a timer is written (the timers table's NOTIFY: a new deadline may be
    earlier), at most `timer_poll_interval_s`. Replicas all run it; claims skip each other."""
    batch = int(getattr(runtime.settings, "timer_batch_size", 100))

    async def fire() -> bool:
        fired = await fire_due(runtime.sessionmaker, now=runtime.clock.now(), limit=batch)
        if fired:
            runtime.relay.wake()
        return bool(fired)

    await runtime.run_when_due(
        fire,
        repository.next_due,
        channel=TIMERS_CHANNEL,
        at_most_s=float(getattr(runtime.settings, "timer_poll_interval_s", 1.0)),
        what="timer",
    )
