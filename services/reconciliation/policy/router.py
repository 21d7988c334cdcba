"""Policy versions: the SOP definitions decisions were taken under, drafts of the next one, and
what a draft would have changed over past cases."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.reconciliation import api_examples as ex
from services.reconciliation.api_examples import json_example
from services.reconciliation.policy import repository, service
from services.reconciliation.policy.schemas import DraftIn, WhatIfIn
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.policy.whatif import policy_changes
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import IdempotencyKeyHeader, idempotent
from shared.paging import Cursor, Limit, PageOf, link_next
from shared.problems import Problem


class PolicyPage(PageOf):
    """A page of policy versions, by version name (docs/api.md, "Paging")."""

    items: list[dict[str, Any]]


router = APIRouter(prefix="/v1/policies", tags=["policy"])
READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)
# Revising the SOP is a manager's job; agents and finance may study the draft's effect.
AUTHORS = (Role.OPS_MANAGER,)


@router.get(
    "",
    response_model=PolicyPage,
    summary="Every policy version, by version name",
    responses=json_example({"items": ex.POLICIES, "next": None}),
)
async def list_policies(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*READERS),
) -> PolicyPage:
    versions = [
        {
            "version": p.version,
            "status": p.status,
            "adopted_at": p.adopted_at.isoformat() if p.adopted_at else None,
        }
        for p in await repository.all_versions(session)
    ]
    items, next_cursor = paging.page_of_list(
        versions, limit=limit, cursor=cursor, key=lambda p: (str(p["version"]),)
    )
    link_next(request, response, next_cursor)
    return PolicyPage(items=items, next=next_cursor)


@router.get(
    "/{version}",
    summary="One policy version with its full definition",
    responses=json_example(ex.POLICY),
)
async def get_policy(
    version: str, session: DbSession, principal: Principal = require(*READERS)
) -> dict[str, Any]:
    policy = await repository.get(session, version)
    if policy is None:
        raise Problem(404, "Not found", f"No policy version {version}.")
    return {
        "version": policy.version,
        "status": policy.status,
        "adopted_at": policy.adopted_at.isoformat() if policy.adopted_at else None,
        "definition": policy.definition,
    }


@router.post(
    "",
    status_code=201,
    response_model=dict[str, Any],
    summary="Store a draft revision: the active (or named) policy with the given changes",
    responses={201: {"content": {"application/json": {"example": ex.DRAFT}}}},
)
async def create_draft(
    body: DraftIn,
    request: Request,
    session: DbSession,
    principal: Principal = require(*AUTHORS),
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        base, draft = await service.create_draft(
            session, version=body.version, based_on=body.based_on, changes=body.changes
        )
        return {
            "version": draft.version,
            "status": "DRAFT",
            "based_on": base.version,
            "changes": policy_changes(base, draft),
            "definition": draft.model_dump(mode="json"),
        }

    return await idempotent(
        request, session, principal=principal, key=idempotency_key, action=run, status_code=201
    )


@router.post(
    "/{version}/what-if",
    summary="Judge past finished cases again under this version; totals, changes and samples",
    responses=json_example(ex.WHAT_IF),
)
async def what_if(
    version: str,
    body: WhatIfIn,
    session: DbSession,
    principal: Principal = require(*READERS),
) -> dict[str, Any]:
    row = await repository.get(session, version)
    if row is None:
        raise Problem(404, "Not found", f"No policy version {version}.")
    report = await service.what_if(
        session,
        Policy.model_validate(row.definition),
        since=body.decided_from,
        until=body.decided_to,
        limit=body.limit,
    )
    return report.as_dict()
