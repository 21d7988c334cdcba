"""Cross-team tasks: the desk asks a team, the team comments and completes, the last blocking
task settles the decision it held, an overdue task alerts management, and per-team figures."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases import repository as cases
from services.reconciliation.cases.decisions import settle_decision
from services.reconciliation.cases.errors import CaseNotFound
from services.reconciliation.cases.timeline import SYSTEM, note, publish
from services.reconciliation.models import Case, CaseTask, TaskComment
from services.reconciliation.policy import service as policies
from services.reconciliation.tasks import repository
from services.reconciliation.tasks.errors import (
    AlreadyAsked,
    AlreadyWithManagement,
    BlockingTaskCannotBeCancelled,
    DeskMustConfirm,
    FinanceMustConfirm,
    ManagementMustClose,
    TaskNotFound,
    TaskNotOpen,
    TaskOfAnotherTeam,
)
from services.reconciliation.tasks.holds import (
    DESK_HOLD,
    keep_payment_promise,
    new_task,
    task_event_fields,
)
from services.reconciliation.tasks.report import case_report
from services.reconciliation.tasks.teams import Team
from shared.events import REPORT_MAX_CHARS, CaseState, CaseTaskOverdue, DecisionRecord


async def open_task(
    session: AsyncSession,
    *,
    case_id: str,
    team: Team,
    ask: str,
    owner: str | None,
    blocks_settlement: bool,
    actor: str,
    now: datetime,
) -> CaseTask:
    case = await cases.lock(session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if team == Team.MANAGEMENT:
        await _refuse_a_second_management_task(session, case_id)
    await _refuse_the_same_ask_twice(session, case_id, team, ask)
    p = await policies.for_case(session, case, now)
    if blocks_settlement:
        # Counted afresh under the case's lock rather than stepped: a count that had drifted
        # (a task opened by a replica older than the count) heals at the next open or close.
        held = await repository.open_holds(session, case_id, hold_kind=DESK_HOLD)
        case.desk_holds_open = held + 1
    return new_task(
        session,
        case=case,
        team=team,
        ask=ask,
        owner=owner,
        blocks_settlement=blocks_settlement,
        hold_kind=DESK_HOLD if blocks_settlement else None,
        actor=actor,
        now=now,
        p=p,
    )


async def of_case(
    session: AsyncSession,
    *,
    case_id: str,
    after: tuple[datetime, UUID] | None,
    limit: int,
    team: str | None = None,
) -> list[CaseTask]:
    """A case's tasks; an id that names no case is refused rather than shown an empty list,
    as every other route under /v1/cases/{case_id} refuses it. A key bound to a team reads its
    team's tasks of its team's cases: another team's case answers as an unknown one."""
    await require_case_of(session, case_id, team)
    return await repository.of_case(session, case_id, after=after, limit=limit, team=team)


async def require_case_of(session: AsyncSession, case_id: str, team: str | None) -> None:
    """The case exists and, for a key bound to a team, is its team's (a task of the team on it);
    otherwise the same 404 as an unknown case."""
    if await cases.get(session, case_id) is None or (
        team is not None and not await cases.is_teams(session, case_id, team)
    ):
        raise CaseNotFound(case_id)


async def _task(session: AsyncSession, task_id: UUID) -> CaseTask:
    task = await repository.get(session, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


def require_team(bound_to: str | None, team: str) -> None:
    """A key bound to a team works that team's tasks only (the desk's keys are bound to none)."""
    if bound_to is not None and bound_to != team:
        raise TaskOfAnotherTeam(bound_to, team)


async def comment(
    session: AsyncSession,
    *,
    task_id: UUID,
    body: str,
    actor: str,
    now: datetime,
    team: str | None = None,
) -> TaskComment:
    require_team(team, (await _task(session, task_id)).team)
    row = TaskComment(task_id=task_id, author=actor, body=body, at=now)
    session.add(row)
    return row


async def close(
    session: AsyncSession,
    *,
    task_id: UUID,
    done: bool,
    resolution: str,
    actor: str,
    is_finance: bool,
    is_desk: bool,
    is_manager: bool,
    now: datetime,
    team: str | None = None,
) -> CaseTask:
    """DONE or CANCELLED. The case is locked before the task, so two teams finishing the last
    two blocking tasks at once settle the case exactly once.

    Completing is a duty: a finance task needs a finance key, any other team's task a desk key
    (the desk confirms for the teams that hold none). A finance key alone confirming the
    warehouse's receipt too would let one person release a payout past both of its holds.
    A management task is closed by an ops_manager: the agent who escalated a case to
    management does not answer for management, by completing or by cancelling. A key bound to
    a team closes that team's tasks only."""
    found = await _task(session, task_id)
    require_team(team, found.team)
    case_id = found.case_id
    case = await cases.lock(session, case_id)
    task = await repository.get(session, task_id, lock=True)
    if case is None or task is None:
        raise TaskNotFound(task_id)
    if task.status != "OPEN":
        raise TaskNotOpen(task_id, task.status)
    if task.blocks_settlement and not done:
        raise BlockingTaskCannotBeCancelled(task_id)
    if task.team == Team.FINANCE and done and not is_finance:
        raise FinanceMustConfirm()
    if task.team != Team.FINANCE and done and not is_desk:
        raise DeskMustConfirm(task.team)
    if task.team == Team.MANAGEMENT and not is_manager:
        raise ManagementMustClose()
    task.status = "DONE" if done else "CANCELLED"
    if task.hold_kind == DESK_HOLD:
        case.desk_holds_open = await repository.open_holds(
            session, case_id, hold_kind=DESK_HOLD, besides=task.task_id
        )
    task.closed_by, task.closed_at, task.resolution = actor, now, resolution
    hours = (now - task.created_at).total_seconds() / 3600
    metrics.task_closed(session, task.team, task.status, hours)
    note(
        session,
        case,
        kind="TASK_DONE" if done else "TASK_CANCELLED",
        actor=actor,
        reason=f"{task.team}: {resolution}",
        now=now,
        data={"task_id": str(task.task_id)},
    )
    if not task.blocks_settlement:
        return task
    others = [
        t
        for t in await repository.of_case(session, case_id)
        if t.blocks_settlement and t.status == "OPEN" and t.task_id != task.task_id
    ]
    if not others and CaseState(case.state) is CaseState.DECIDED and case.decision:
        record = DecisionRecord.model_validate(case.decision)
        p = await policies.for_case(session, case, now)
        await settle_decision(session, case, record, actor=actor, now=now, p=p)
    return task


async def alert_overdue(
    session: AsyncSession, *, now: datetime, limit: int = 100
) -> list[CaseTask]:
    """Open tasks past their due time, each alerted once (the mark is the durable part).

    Every other path locks the case before its task (`close`); this one holds the task already,
    so it takes the case only if free: a task whose case is busy (being completed right now,
    say) is left for the next round instead of waiting on a lock in the opposite order."""
    alerted: list[CaseTask] = []
    holding_payment: dict[str, Case] = {}
    for task in await repository.claim_overdue(session, now=now, limit=limit):
        case = await cases.lock(session, task.case_id, skip_locked=True)
        if case is None:
            continue
        alerted.append(task)
        alerted_before = task.overdue_alerted_at
        task.overdue_alerted_at = now
        metrics.task_overdue(session, task.team)
        note(
            session,
            case,
            kind="TASK_OVERDUE",
            actor=SYSTEM,
            reason=f"The {task.team} task is overdue (due {task.due_at.isoformat()}): "
            f"{task.ask}. Management is alerted.",
            now=now,
            data={"task_id": str(task.task_id), "team": task.team},
        )
        publish(
            session,
            CaseTaskOverdue(**task_event_fields(task, case), alerted_before=alerted_before),
            subject=case.case_id,
            now=now,
        )
        if task.blocks_settlement:
            holding_payment[case.case_id] = case
    # Once per case, after all its tasks due now are marked: two checks missing the same date
    # make one apology to the seller.
    for case in holding_payment.values():
        p = await policies.for_case(session, case, now)
        await keep_payment_promise(session, case=case, now=now, p=p)
    return alerted


def team_metrics(
    tasks: list[CaseTask], now: datetime, *, only: str | None = None
) -> list[dict[str, Any]]:
    """Per team: open, overdue, done, time to close; the row of team `only` alone when given
    (a key bound to a team reads its own team's figures, not the others')."""
    by_team: dict[str, list[CaseTask]] = defaultdict(list)
    for task in tasks:
        by_team[task.team].append(task)
    out = []
    for team in Team:
        if only is not None and team.value != only:
            continue
        rows = by_team.get(team.value, [])
        hours = [
            (t.closed_at - t.created_at).total_seconds() / 3600
            for t in rows
            if t.status == "DONE" and t.closed_at is not None
        ]
        out.append(
            {
                "team": team.value,
                "open": sum(1 for t in rows if t.status == "OPEN"),
                # Past a due time, now or once: a task given a new date after it missed one
                # (a held payment's) is still late for its team.
                "overdue": sum(
                    1
                    for t in rows
                    if t.status == "OPEN" and (t.due_at <= now or t.overdue_alerted_at is not None)
                ),
                "done": len(hours),
                "median_hours_to_close": round(statistics.median(hours), 2) if hours else None,
                "mean_hours_to_close": round(statistics.fmean(hours), 2) if hours else None,
            }
        )
    return out


async def escalate_to_management(
    session: AsyncSession, *, case_id: str, reason: str, actor: str, now: datetime
) -> CaseTask:
    """A management task on the case; its event carries the case report, which the management
    email attaches (a report too large for an event is left to `GET /v1/cases/{id}/report`)."""
    html = await case_report(session, case_id=case_id, reason=reason, actor=actor, now=now)
    case = await cases.lock(session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    await _refuse_a_second_management_task(session, case_id)
    p = await policies.for_case(session, case, now)
    return new_task(
        session,
        case=case,
        team=Team.MANAGEMENT,
        ask=f"Escalated by {actor}: {reason}",
        owner=None,
        blocks_settlement=False,
        hold_kind=None,
        actor=actor,
        now=now,
        p=p,
        escalation_reason=reason,
        report_html=html if len(html) <= REPORT_MAX_CHARS else None,
    )


async def _refuse_the_same_ask_twice(
    session: AsyncSession, case_id: str, team: Team, ask: str
) -> None:
    """An open task already asks this team the same thing on this case: the same request sent
    again (a double click, a retry without an Idempotency-Key, two agents at once) opened a
    second task, emailed the team again and, blocking settlement, held the payout on both. The
    caller holds the case row's lock, which orders racing requests. Another ask, or the same
    once its task is done or cancelled, is a new task."""
    for task in await repository.of_case(session, case_id, team=team.value):
        if task.status == "OPEN" and task.ask == ask:
            raise AlreadyAsked(case_id, team.value, task.task_id)


async def _refuse_a_second_management_task(session: AsyncSession, case_id: str) -> None:
    """One open management task a case, however it is opened: the same escalation sent twice
    (two agents, a retry without an Idempotency-Key) would otherwise email management the report
    twice, and tasks opened for the management team through the generic route would pile up
    tasks only a manager can close. The caller holds the case row's lock, which orders racing
    requests, so the second one sees the first's task."""
    for task in await repository.of_case(session, case_id):
        if task.team == Team.MANAGEMENT and task.status == "OPEN":
            raise AlreadyWithManagement(case_id, task.task_id)
