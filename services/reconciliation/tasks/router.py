"""HTTP of cross-team tasks: ask a team on a case, comment, complete or cancel, the per-team
figures, and "escalate to management" with its case report."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.reconciliation.models import CaseTask, TaskComment
from services.reconciliation.tasks import repository, service
from services.reconciliation.tasks.report import case_report
from services.reconciliation.tasks.schemas import CloseIn, CommentIn, EscalateIn, TaskIn
from services.reconciliation.tasks.teams import Team
from shared.auth import Principal, Role, require
from shared.clock import RequestClock
from shared.db import DbSession
from shared.idempotency import IdempotencyKeyHeader, idempotent

router = APIRouter(tags=["tasks"])

DESK = (Role.OPS_AGENT, Role.OPS_MANAGER)
# Finance confirms payouts: it comments on and completes tasks too.
WORKERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)


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
)
async def create_task(
    case_id: str,
    body: TaskIn,
    request: Request,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*DESK),
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        task = await service.open_task(
            session,
            case_id=case_id,
            team=body.team,
            ask=body.ask,
            owner=body.owner,
            blocks_settlement=body.blocks_settlement,
            actor=principal.client_id,
            now=clock.now(),
        )
        return _task(task, [])

    return await idempotent(
        request, session, principal=principal, key=idempotency_key, action=run, status_code=201
    )


@router.get("/v1/cases/{case_id}/tasks", summary="Every task of a case, with its comments")
async def case_tasks(
    case_id: str, session: DbSession, principal: Principal = require(*WORKERS)
) -> list[dict[str, Any]]:
    rows = await repository.of_case(session, case_id)
    comments = await repository.comments(session, [t.task_id for t in rows])
    return [_task(t, comments) for t in rows]


@router.get("/v1/tasks", summary="Tasks by team and status, soonest due first")
async def list_tasks(
    session: DbSession,
    team: Team | None = None,
    status: Literal["OPEN", "DONE", "CANCELLED"] | None = None,
    principal: Principal = require(*WORKERS),
) -> list[dict[str, Any]]:
    return [
        _task(t)
        for t in await repository.listing(session, team=team.value if team else None, status=status)
    ]


@router.get("/v1/tasks/metrics", summary="Per team: open, overdue, done, time to close")
async def metrics(
    session: DbSession, clock: RequestClock, principal: Principal = require(*WORKERS)
) -> dict[str, Any]:
    now = clock.now()
    return {
        "as_of": now.isoformat(),
        "teams": service.team_metrics(await repository.all_tasks(session), now),
    }


@router.post(
    "/v1/tasks/{task_id}/comments",
    status_code=201,
    response_model=dict[str, Any],
    summary="Comment on a task",
)
async def add_comment(
    task_id: UUID,
    body: CommentIn,
    request: Request,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*WORKERS),
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        row = await service.comment(
            session, task_id=task_id, body=body.body, actor=principal.client_id, now=clock.now()
        )
        return {"task_id": str(task_id), "author": row.author, "body": row.body}

    return await idempotent(
        request, session, principal=principal, key=idempotency_key, action=run, status_code=201
    )


async def _close(
    done: bool,
    task_id: UUID,
    body: CloseIn,
    request: Request,
    session: Any,
    clock: Any,
    principal: Principal,
    idempotency_key: str | None,
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        task = await service.close(
            session,
            task_id=task_id,
            done=done,
            resolution=body.resolution,
            actor=principal.client_id,
            is_finance=principal.has(Role.FINANCE),
            now=clock.now(),
        )
        return _task(task)

    return await idempotent(request, session, principal=principal, key=idempotency_key, action=run)


@router.post(
    "/v1/tasks/{task_id}/complete",
    response_model=dict[str, Any],
    summary="Done: the last blocking task of a decided case settles it",
)
async def complete(
    task_id: UUID,
    body: CloseIn,
    request: Request,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*WORKERS),
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any] | Response:
    return await _close(True, task_id, body, request, session, clock, principal, idempotency_key)


@router.post(
    "/v1/tasks/{task_id}/cancel",
    response_model=dict[str, Any],
    summary="No longer needed (a task that holds a settlement cannot be cancelled)",
)
async def cancel(
    task_id: UUID,
    body: CloseIn,
    request: Request,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*DESK),
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any] | Response:
    return await _close(False, task_id, body, request, session, clock, principal, idempotency_key)


@router.post(
    "/v1/cases/{case_id}/escalate-to-management",
    status_code=201,
    response_model=dict[str, Any],
    summary="A management task with the case report (facts, timeline, fraud, ledger, tasks)",
)
async def escalate_to_management(
    case_id: str,
    body: EscalateIn,
    request: Request,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*DESK),
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        task = await service.escalate_to_management(
            session, case_id=case_id, reason=body.reason, actor=principal.client_id, now=clock.now()
        )
        return {**_task(task, []), "report": f"/v1/cases/{case_id}/report"}

    return await idempotent(
        request, session, principal=principal, key=idempotency_key, action=run, status_code=201
    )


@router.get(
    "/v1/cases/{case_id}/report",
    response_class=HTMLResponse,
    summary="The case report as one HTML page",
)
async def report(
    case_id: str,
    session: DbSession,
    clock: RequestClock,
    reason: Annotated[str, Query(max_length=500)] = "On request",
    principal: Principal = require(*WORKERS),
) -> HTMLResponse:
    html = await case_report(
        session, case_id=case_id, reason=reason, actor=principal.client_id, now=clock.now()
    )
    return HTMLResponse(html)
