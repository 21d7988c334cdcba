"""Settlement holds: the decisions a team must confirm before money moves (the policy says
which), opened as blocking tasks on the case. No import of the settling code here: completing
the last blocking task settles (`tasks/service.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases.timeline import SYSTEM, emit, note, publish
from services.reconciliation.cases.transitions import Move
from services.reconciliation.models import Case, CaseTask
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.tasks import repository
from services.reconciliation.tasks.teams import Team
from shared.events import (
    CaseState,
    CaseTaskOpened,
    CaseUpdated,
    DecisionRecord,
    SettlementWait,
)

FINANCE_PAYOUT = "FINANCE_PAYOUT"
WAREHOUSE_RECEIPT = "WAREHOUSE_RECEIPT"
# A blocking task the desk opened itself (`POST /v1/cases/{id}/tasks`, blocks_settlement).
DESK_HOLD = "DESK"


def new_task(
    session: AsyncSession,
    *,
    case: Case,
    team: Team,
    ask: str,
    owner: str | None,
    blocks_settlement: bool,
    hold_kind: str | None,
    actor: str,
    now: datetime,
    p: Policy,
    escalation_reason: str | None = None,
    report_html: str | None = None,
) -> CaseTask:
    """Open a task, note it on the timeline and publish it (notifications emails the team;
    an escalation's event carries the case report for the management email)."""
    task = CaseTask(
        task_id=uuid4(),
        case_id=case.case_id,
        team=team.value,
        ask=ask,
        owner=owner,
        due_at=task_due_at(team, now=now, p=p),
        status="OPEN",
        blocks_settlement=blocks_settlement,
        hold_kind=hold_kind,
        created_by=actor,
        created_at=now,
    )
    session.add(task)
    metrics.task_opened(session, team.value)
    note(
        session,
        case,
        kind="TASK_OPENED",
        actor=actor,
        reason=f"Asked {team.value}: {ask}"
        + (" Settlement waits for it." if blocks_settlement else ""),
        now=now,
        data={"task_id": str(task.task_id), "team": team.value, "due_at": task.due_at.isoformat()},
    )
    publish(
        session,
        CaseTaskOpened(
            **task_event_fields(task, case),
            escalation_reason=escalation_reason,
            report_html=report_html,
        ),
        subject=case.case_id,
        now=now,
    )
    return task


def task_due_at(team: Team, *, now: datetime, p: Policy) -> datetime:
    return now + timedelta(hours=p.task_sla_h.get(team.value, 24))


def task_event_fields(task: CaseTask, case: Case) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "case_id": case.case_id,
        "return_id": case.return_id,
        "team": task.team,
        "ask": task.ask,
        "owner": task.owner,
        "due_at": task.due_at,
        "blocks_settlement": task.blocks_settlement,
        "opened_by": task.created_by,
        "occurred_at": task.overdue_alerted_at or task.created_at,
    }


def _holds_needed(case: Case, record: DecisionRecord, p: Policy) -> list[tuple[str, Team, str]]:
    """The confirmations the policy asks for this decision: (hold kind, team, the ask)."""
    rules = p.settlement_holds
    needed: list[tuple[str, Team, str]] = []
    limit = rules.finance_confirmation_above_paise
    if limit is not None and record.payout > limit:
        needed.append(
            (
                FINANCE_PAYOUT,
                Team.FINANCE,
                f"Confirm the payout of {record.payout} paise on case {case.case_id} "
                f"(above {limit} paise) before it is paid.",
            )
        )
    claim = case.claim_type
    if claim is not None and record.payout > 0 and claim in rules.warehouse_receipt_claim_types:
        needed.append(
            (
                WAREHOUSE_RECEIPT,
                Team.WAREHOUSE,
                f"Confirm receipt of return {case.return_id} ({claim}) and what is in it.",
            )
        )
    return needed


async def _holds_pending(
    session: AsyncSession, case: Case, record: DecisionRecord, p: Policy
) -> list[tuple[str, Team, str, CaseTask | None]]:
    """The needed holds not yet confirmed on the case (a task DONE once is not asked again),
    each with its open task if one is open already, and the desk's own blocking tasks still
    open. No query when the policy needs none and the desk holds nothing: the usual decision
    pays at once."""
    needed = _holds_needed(case, record, p)
    if not needed and not case.desk_holds_open:
        return []
    existing = await repository.of_case(session, case.case_id)
    pending: list[tuple[str, Team, str, CaseTask | None]] = [
        (DESK_HOLD, Team(t.team), t.ask, t)
        for t in existing
        if t.hold_kind == DESK_HOLD and t.status == "OPEN"
    ]
    for kind, team, ask in needed:
        prior = [t for t in existing if t.hold_kind == kind]
        if any(t.status == "DONE" for t in prior):
            continue
        open_task = next((t for t in prior if t.status == "OPEN"), None)
        pending.append((kind, team, ask, open_task))
    return pending


async def settlement_waits(
    session: AsyncSession,
    *,
    case: Case,
    record: DecisionRecord,
    p: Policy,
    now: datetime,
) -> list[SettlementWait]:
    """Whom the decision's payment will wait for, and until when: the open task's due time (a
    fresh one if it has passed), or the one `hold_settlement` gives the task it opens at the same
    `now`. The decision's event carries it, so the seller's decision email can name the check
    and the date. A fresh date is written to its task at once: every email that promises one
    (a decision, a repeat filing on the decided case) is kept by a task that falls due then, so
    its passing is noticed (`keep_payment_promise`) rather than an earlier date's."""
    waits = []
    for kind, team, _, open_task in await _holds_pending(session, case, record, p):
        expected_by = _promised_due(team, open_task, now=now, p=p)
        if open_task is not None and open_task.due_at != expected_by:
            open_task.due_at = expected_by
        waits.append(SettlementWait(team=team.value, expected_by=expected_by, kind=kind))
    return waits


def _promised_due(team: Team, open_task: CaseTask | None, *, now: datetime, p: Policy) -> datetime:
    """The date the seller is given for a team's check: its open task's due time, or a fresh
    one when there is no task yet or it has passed (never a date gone)."""
    if open_task is not None and open_task.due_at > now:
        return open_task.due_at
    return task_due_at(team, now=now, p=p)


async def hold_settlement(
    session: AsyncSession,
    *,
    case: Case,
    record: DecisionRecord,
    p: Policy,
    now: datetime,
    actor: str,
) -> bool:
    """True when the decision must wait for a team: its blocking tasks are open (opened now if
    needed). A hold confirmed once for the case (a task DONE) is not asked again."""
    pending = await _holds_pending(session, case, record, p)
    for kind, team, ask, open_task in pending:
        if open_task is not None and open_task.due_at <= now:
            # The decision's email gives the seller a fresh date for a task already past its
            # due time (`settlement_waits`): the task is held to that date from now on, so its
            # passing is noticed (`keep_payment_promise`) like any other.
            open_task.due_at = _promised_due(team, None, now=now, p=p)
        if open_task is None:
            new_task(
                session,
                case=case,
                team=team,
                ask=ask,
                owner=None,
                blocks_settlement=True,
                hold_kind=kind,
                actor=actor,
                now=now,
                p=p,
            )
    return bool(pending)


def _renewed_window(case: Case, now: datetime, p: Policy) -> timedelta:
    """How far out the new date is once a held payment missed the seller's date: as long again
    as the payment has waited since the decision, at least management's hours and at most
    `overdue_promise_max_h`. The same spacing as an overdue decision's (24 h, 48 h, 96 h …): a
    date broken and given again at the same short distance is one no seller believes."""
    floor = timedelta(hours=p.task_sla_h.get(Team.MANAGEMENT.value, p.timers.review_sla_h))
    waited = now - case.decided_at if case.decided_at is not None else floor
    return min(max(floor, waited), timedelta(hours=p.timers.overdue_promise_max_h))


def _date_promised(tasks: list[CaseTask], case: Case) -> datetime:
    """The payment date the seller holds: the latest due time of the checks the decision's
    payment has waited for (open, or closed since the decision). Every promise is written to
    those tasks (`settlement_waits`, `keep_payment_promise`), and a closed task keeps its due
    time, so the date outlives the check that held it."""
    decided_at = case.decided_at
    return max(
        t.due_at
        for t in tasks
        if t.blocks_settlement
        and (
            t.status == "OPEN"
            or (decided_at is not None and t.closed_at is not None and t.closed_at >= decided_at)
        )
    )


async def keep_payment_promise(
    session: AsyncSession, *, case: Case, now: datetime, p: Policy
) -> None:
    """A task holding the case's payment passed its due time (management is alerted for it).
    When that breaks the date the seller was given for the payment (the decision pays, and no
    task it still waits for is due later), the seller hears once, with an apology, which checks
    still wait and a new date, which every waiting task is now held to: passing that date too
    alerts management again and gives the seller the next, further-out one. A payment nobody
    was promised (nothing to pay, or the case no longer waits) sends nothing."""
    if CaseState(case.state) is not CaseState.DECIDED or not case.decision:
        return
    record = DecisionRecord.model_validate(case.decision)
    if record.payout <= 0:
        return  # the decision email gave no payment date
    tasks = await repository.of_case(session, case.case_id)
    waiting = [t for t in tasks if t.blocks_settlement and t.status == "OPEN"]
    if not waiting:
        return
    promised = _date_promised(tasks, case)
    if promised > now:
        # The seller's date is still ahead. A waiting check that missed its own date is held to
        # the seller's from now on: the check due then may be done first, and the seller's date
        # must still be some waiting task's, so that its passing is noticed.
        for task in waiting:
            if task.due_at <= now:
                task.due_at = promised
        return
    new_due = now + _renewed_window(case, now, p)
    for task in waiting:
        task.due_at = new_due
    teams = ", ".join(sorted({t.team for t in waiting}))
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.SETTLEMENT_OVERDUE,
        actor=SYSTEM,
        now=now,
        reason=f"The payment waiting for {teams} missed the date the seller was given; the "
        f"seller is told, with a new date ({new_due.isoformat()}), which the tasks now hold.",
        reason_code=case.reason_code,
        decision=record,
        change="SETTLEMENT_OVERDUE",
        next_step_by=new_due,
        settlement_waits=[
            SettlementWait(team=t.team, expected_by=new_due, kind=t.hold_kind) for t in waiting
        ],
    )
