"""Policy versions: the SOP definitions decisions were taken under, drafts of the next one, what
a draft would have changed over past cases, and its adoption under four eyes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.reconciliation import api_examples as ex
from services.reconciliation.api_examples import json_example
from services.reconciliation.models import PolicyVersion
from services.reconciliation.policy import lifecycle, repository, service
from services.reconciliation.policy.schemas import ApproveIn, DraftIn, ProposeIn, RetireIn, WhatIfIn
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.policy.whatif import policy_changes
from shared import paging
from shared.auth import Principal, Role, require
from shared.clock import RequestClock
from shared.db import DbSession
from shared.idempotency import Change
from shared.lookups import PolicyVersionPath
from shared.paging import Cursor, Limit, PageOf, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute


class PolicyPage(PageOf):
    """A page of policy versions, by version name (docs/api.md, "Paging")."""

    items: list[dict[str, Any]]


router = APIRouter(route_class=ServiceRoute, prefix="/v1/policies", tags=["policy"])
READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)
# Revising the SOP is a manager's job; agents and finance may study the draft's effect.
AUTHORS = (Role.OPS_MANAGER,)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(p: PolicyVersion, in_force: str | None, *, desk: bool = True) -> dict[str, Any]:
    """A version as listed; `desk` False for a key bound to a team, which reads the rules but
    not the what-if (its money and partners over every team's past cases are the desk's)."""
    return {
        "version": p.version,
        "status": p.status,
        "in_force": p.version == in_force,
        "based_on": p.based_on,
        "effective_at": _iso(p.effective_at),
        "proposed_by": p.proposed_by,
        "proposed_at": _iso(p.proposed_at),
        "approved_by": p.approved_by,
        "adopted_at": _iso(p.adopted_at),
        "retired_at": _iso(p.retired_at),
        "what_if_summary": (p.what_if or {}).get("summary") if desk else None,
    }


@router.get(
    "",
    response_model=PolicyPage,
    summary="Every policy version, by version name, and which one is in force now",
    responses=json_example({"items": ex.POLICIES, "next": None}),
)
async def list_policies(
    request: Request,
    response: Response,
    session: DbSession,
    clock: RequestClock,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    # The rules in force name no case: every team reads what the desk decides by.
    principal: Principal = require(*READERS, team_reads=True),
) -> PolicyPage:
    in_force = await repository.in_force_version(session, clock.now())
    desk = principal.team is None
    versions = [_summary(p, in_force, desk=desk) for p in await repository.all_versions(session)]
    items, next_cursor = paging.page_of_list(
        versions, limit=limit, cursor=cursor, key=lambda p: (str(p["version"]),)
    )
    link_next(request, response, next_cursor)
    return PolicyPage(items=items, next=next_cursor)


@router.get(
    "/changes",
    response_model=PolicyPage,
    summary="The change log of every version: who, why, what changed",
    responses=json_example({"items": ex.POLICY_CHANGES, "next": None}),
)
async def list_changes(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    # The same log each version's page shows every team (`get_policy`): who changed the rules,
    # why, and which rule fields moved; it names no case.
    principal: Principal = require(*READERS, team_reads=True),
) -> PolicyPage:
    changes = [_change(c) for c in await repository.changes(session)]
    items, next_cursor = paging.page_of_list(
        changes, limit=limit, cursor=cursor, key=lambda c: (str(c["at"]), str(c["version"]))
    )
    link_next(request, response, next_cursor)
    return PolicyPage(items=items, next=next_cursor)


def _change(c: Any) -> dict[str, Any]:
    return {
        "version": c.version,
        "action": c.action,
        "actor": c.actor,
        "reason": c.reason,
        "diff": c.diff,
        "effective_at": _iso(c.effective_at),
        "at": c.at.isoformat(),
    }


@router.get(
    "/{version}",
    summary="One policy version: definition, proposal with its what-if, log",
    responses=json_example(ex.POLICY),
)
async def get_policy(
    version: PolicyVersionPath,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*READERS, team_reads=True),
) -> dict[str, Any]:
    policy = await repository.get(session, version)
    if policy is None:
        raise Problem(404, "Not found", f"No policy version {version}.")
    in_force = await repository.in_force_version(session, clock.now())
    return {
        **_summary(policy, in_force, desk=principal.team is None),
        "definition": policy.definition,
        # The what-if names past cases of every team (its samples): the desk's to read.
        "what_if": policy.what_if if principal.team is None else None,
        "changes": [_change(c) for c in await repository.changes(session, version)],
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
    change: Change,
    principal: Principal = require(*AUTHORS),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        base, draft = await service.create_draft(
            change.session,
            version=body.version,
            based_on=body.based_on,
            changes=body.changes,
            actor=principal.client_id,
            reason=body.reason,
            now=change.now(),
        )
        return {
            "version": draft.version,
            "status": "DRAFT",
            "based_on": base.version,
            "changes": policy_changes(base, draft),
            "definition": draft.model_dump(mode="json"),
        }

    return await change.once(run, status_code=201)


@router.post(
    "/{version}/what-if",
    summary="Judge past finished cases again under this version; totals, changes and samples",
    responses=json_example(ex.WHAT_IF),
)
async def what_if(
    version: PolicyVersionPath,
    body: WhatIfIn,
    session: DbSession,
    clock: RequestClock,
    principal: Principal = require(*READERS, reads=True),
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
        now=clock.now(),
    )
    return report.as_dict()


@router.post(
    "/{version}/propose",
    response_model=dict[str, Any],
    summary="Propose adopting a draft from an effective time; its what-if is stored with it",
    responses=json_example(ex.PROPOSED),
)
async def propose(
    version: PolicyVersionPath,
    body: ProposeIn,
    change: Change,
    principal: Principal = require(*AUTHORS),
) -> dict[str, Any] | Response:
    settings = change.request.app.state.runtime.settings

    async def run() -> dict[str, Any]:
        row = await lifecycle.propose(
            change.session,
            version=version,
            effective_at=body.effective_at,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
            what_if_days=settings.policy_what_if_days,
            what_if_limit=settings.policy_what_if_limit,
        )
        return {**_summary(row, None), "what_if": row.what_if}

    return await change.once(run)


@router.post(
    "/{version}/approve",
    response_model=dict[str, Any],
    summary="Adopt a proposed version (an ops_manager other than the proposer: four eyes)",
    responses=json_example(ex.ADOPTED),
)
async def approve(
    version: PolicyVersionPath,
    body: ApproveIn,
    change: Change,
    principal: Principal = require(*AUTHORS),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        now = change.now()
        row = await lifecycle.approve(
            change.session, version=version, reason=body.reason, actor=principal.client_id, now=now
        )
        return _summary(row, await repository.in_force_version(change.session, now))

    return await change.once(run)


@router.post(
    "/{version}/retire",
    response_model=dict[str, Any],
    summary="Retire a version: no longer adoptable or in force; its definition stays, unchanged",
    responses=json_example(ex.RETIRED),
)
async def retire(
    version: PolicyVersionPath,
    body: RetireIn,
    change: Change,
    principal: Principal = require(*AUTHORS),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        now = change.now()
        row = await lifecycle.retire(
            change.session, version=version, reason=body.reason, actor=principal.client_id, now=now
        )
        return _summary(row, await repository.in_force_version(change.session, now))

    return await change.once(run)
