"""HTTP of cross-team tasks: ask a team on a case, comment, complete or cancel, the per-team
figures, and "escalate to management" with its case report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.reconciliation import api_examples as ex
from services.reconciliation.api_examples import json_example
from services.reconciliation.models import CaseTask, TaskComment
from services.reconciliation.tasks import repository, service
from services.reconciliation.tasks.report import case_report
from services.reconciliation.tasks.schemas import CloseIn, CommentIn, EscalateIn, TaskIn
from services.reconciliation.tasks.teams import Team
from shared import paging
from shared.auth import Principal, Role, require
from shared.clock import RequestClock
from shared.db import DbSession
from shared.idempotency import Change, ChangeContext
from shared.lookups import IdPath
from shared.paging import Cursor, Limit, PageOf, link_next
from shared.service_route import ServiceRoute
from shared.validation import Text

router = APIRouter(route_class=ServiceRoute, tags=["tasks"])

DESK = (Role.OPS_AGENT, Role.OPS_MANAGER)
# Finance confirms payouts: it comments on and completes tasks too.
WORKERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)


class TaskPage(PageOf):
    """A page of tasks (docs/api.md, "Paging")."""

    items: list[dict[str, Any]]


def _task(t: CaseTask, comments: list[TaskComment] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": str(t.task_id),
        "case_id": t.case_id,
        "team": t.team,
        "ask": t.ask,
        "owner": t.owner,
        "due_at": t.due_at.isoformat(),
        "status": t.status,
        "blocks_settlement": t.blocks_settlement,
        "hold_kind": t.hold_kind,
        "created_by": t.created_by,
        "created_at": t.created_at.isoformat(),
        "closed_by": t.closed_by,
        "closed_at": t.closed_at.isoformat() if t.closed_at else None,
        "resolution": t.resolution,
        "overdue_alerted_at": t.overdue_alerted_at.isoformat() if t.overdue_alerted_at else None,
    }
    if comments is not None:
        out["comments"] = [
            {"author": c.author, "body": c.body, "at": c.at.isoformat()}
            for c in comments
            if c.task_id == t.task_id
        ]
    return out


@router.post(
    "/v1/cases/{case_id}/tasks",
    status_code=201,
    response_model=dict[str, Any],
    summary="Ask a team for something on a case; due by the team's SLA",
    responses=json_example(ex.TASK, status=201),
)
async def create_task(
    case_id: IdPath,
    body: TaskIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        task = await service.open_task(
            change.session,
            case_id=case_id,
            team=body.team,
            ask=body.ask,
            owner=body.owner,
            blocks_settlement=body.blocks_settlement,
            actor=principal.client_id,
            now=change.now(),
        )
        return _task(task, [])

    return await change.once(run, status_code=201)


@router.get(
    "/v1/cases/{case_id}/tasks",
    response_model=TaskPage,
    summary="The tasks of a case, oldest first, with their comments",
    responses=json_example({"items": [ex.TASK_WITH_COMMENTS], "next": None}),
)
async def case_tasks(
    case_id: IdPath,
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*WORKERS, team_reads=True),
) -> TaskPage:
    rows = await service.of_case(
        session,
        case_id=case_id,
        after=paging.decode_cursor(cursor, (datetime, UUID)) if cursor is not None else None,
        limit=limit + 1,
        team=principal.team,
    )
    items, next_cursor = paging.page(rows, limit, lambda t: (t.created_at, t.task_id))
    comments = await repository.comments(session, [t.task_id for t in items])
    link_next(request, response, next_cursor)
    return TaskPage(items=[_task(t, comments) for t in items], next=next_cursor)


@router.get(
    "/v1/tasks",
    response_model=TaskPage,
    summary="Tasks by team and status, soonest due first",
    responses=json_example({"items": [ex.TASK], "next": None}),
)
async def list_tasks(
    request: Request,
    response: Response,
    session: DbSession,
    team: Team | None = None,
    status: Literal["OPEN", "DONE", "CANCELLED"] | None = None,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*WORKERS, team_reads=True),
) -> TaskPage:
    if principal.team is not None:
        # A key bound to a team reads its team's queue: by default, and only that one.
        service.require_team(principal.team, team.value if team else principal.team)
        team = Team(principal.team)
    rows = await repository.listing(
        session,
        team=team.value if team else None,
        status=status,
        after=paging.decode_cursor(cursor, (datetime, UUID)) if cursor is not None else None,
        limit=limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda t: (t.due_at, t.task_id))
    link_next(request, response, next_cursor)
    return TaskPage(items=[_task(t) for t in items], next=next_cursor)


@router.get(
    "/v1/tasks/metrics",
    summary="Per team: open, overdue, done, time to close",
    responses=json_example(ex.TASK_METRICS),
)
async def metrics(
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*WORKERS, team_reads=True),
) -> dict[str, Any]:
    now = clock.now()
    return {
        "as_of": now.isoformat(),
        "teams": service.team_metrics(
            await repository.all_tasks(session), now, only=principal.team
        ),
    }


@router.post(
    "/v1/tasks/{task_id}/comments",
    status_code=201,
    response_model=dict[str, Any],
    summary="Comment on a task",
    responses=json_example(ex.TASK_COMMENT, status=201),
)
async def add_comment(
    task_id: UUID,
    body: CommentIn,
    change: Change,
    principal: Principal = require(*WORKERS, team_work=True),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        row = await service.comment(
            change.session,
            task_id=task_id,
            body=body.body,
            actor=principal.client_id,
            team=principal.team,
            now=change.now(),
        )
        return {"task_id": str(task_id), "author": row.author, "body": row.body}

    return await change.once(run, status_code=201)


async def _close(
    done: bool, task_id: UUID, body: CloseIn, change: ChangeContext, principal: Principal
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        task = await service.close(
            change.session,
            task_id=task_id,
            done=done,
            resolution=body.resolution,
            actor=principal.client_id,
            is_finance=principal.has(Role.FINANCE),
            is_desk=principal.has(*DESK),
            is_manager=principal.has(Role.OPS_MANAGER),
            team=principal.team,
            now=change.now(),
        )
        return _task(task)

    return await change.once(run)


@router.post(
    "/v1/tasks/{task_id}/complete",
    response_model=dict[str, Any],
    summary="Done: the last blocking task of a decided case settles it",
    responses=json_example(ex.TASK_DONE),
)
async def complete(
    task_id: UUID,
    body: CloseIn,
    change: Change,
    principal: Principal = require(*WORKERS, team_work=True),
) -> dict[str, Any] | Response:
    return await _close(True, task_id, body, change, principal)


@router.post(
    "/v1/tasks/{task_id}/cancel",
    response_model=dict[str, Any],
    summary="No longer needed (a task that holds a settlement cannot be cancelled)",
    responses=json_example(ex.TASK_CANCELLED),
)
async def cancel(
    task_id: UUID,
    body: CloseIn,
    change: Change,
    principal: Principal = require(*DESK, team_work=True),
) -> dict[str, Any] | Response:
    return await _close(False, task_id, body, change, principal)


@router.post(
    "/v1/cases/{case_id}/escalate-to-management",
    status_code=201,
    response_model=dict[str, Any],
    summary="A management task with the case report (facts, timeline, fraud, ledger, tasks)",
    responses=json_example(ex.MANAGEMENT_TASK, status=201),
)
async def escalate_to_management(
    case_id: IdPath,
    body: EscalateIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        task = await service.escalate_to_management(
            change.session,
            case_id=case_id,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
        )
        return {**_task(task, []), "report": f"/v1/cases/{case_id}/report"}

    return await change.once(run, status_code=201)


@router.get(
    "/v1/cases/{case_id}/report",
    response_class=HTMLResponse,
    summary="The case report as one HTML page",
    responses={200: {"content": {"text/html": {"example": ex.CASE_REPORT_HTML}}}},
)
async def report(
    case_id: IdPath,
    session: DbSession,
    clock: RequestClock,
    reason: Annotated[Text, Query(max_length=500)] = "On request",
    principal: Principal = require(*WORKERS, team_reads=True),
) -> HTMLResponse:
    await service.require_case_of(session, case_id, principal.team)
    html = await case_report(
        session, case_id=case_id, reason=reason, actor=principal.client_id, now=clock.now()
    )
    return HTMLResponse(html)
