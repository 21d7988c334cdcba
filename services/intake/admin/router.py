"""Admin endpoints (role `admin`): partners, secret rotation, status mappings, unmapped statuses,
replay of archived requests, and the raw archive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, status
from fastapi.responses import Response

from services.intake.admin import service
from services.intake.admin.schemas import (
    PartnerIn,
    PartnerList,
    PartnerOut,
    RawRequestOut,
    ReplayIn,
    ReplayOut,
    SecretRotation,
    StatusMappingIn,
    StatusMappingList,
    StatusMappingOut,
    UnmappedStatusList,
)
from services.intake.api_docs import PROBLEM_RESPONSES
from services.intake.partners import service as partners_service
from services.intake.partners.router import partner_directory
from shared import paging
from shared.app import ServiceRuntime
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.events import Id
from shared.idempotency import Change
from shared.paging import Cursor, Limit, link_next
from shared.service_route import ServiceRoute

router = APIRouter(
    route_class=ServiceRoute, prefix="/v1/admin", tags=["admin"], responses=PROBLEM_RESPONSES
)

PartnerId = Annotated[Id, Path()]


def _now(request: Request) -> datetime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.clock.now()


def _registry_changed(request: Request, background: BackgroundTasks, partner_id: str) -> None:
    """This replica reads the change at once (and again after the commit, which happens once
    the endpoint returns); other replicas within the directory's TTL."""
    directory = partner_directory(request)
    directory.invalidate(partner_id)
    background.add_task(directory.invalidate, partner_id)


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnerOut,
    summary="Register a partner with its first secret",
)
async def add_partner(
    data: PartnerIn,
    background: BackgroundTasks,
    change: Change,
    principal: Principal = require(Role.ADMIN),
) -> PartnerOut | Response:
    _registry_changed(change.request, background, data.partner_id)
    return await change.once(
        lambda: service.add_partner(
            change.session,
            data=data,
            now=change.now(),
            secrets=change.request.app.state.partner_secrets,
        ),
        status_code=201,
    )


@router.get("/partners", response_model=PartnerList, summary="Partners and their secrets' validity")
async def list_partners(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(Role.ADMIN),
) -> PartnerList:
    everything = await service.list_partners(session, now=_now(request))
    items, next_cursor = paging.page_of_list(
        everything.items, limit=limit, cursor=cursor, key=lambda p: (p.partner_id,)
    )
    link_next(request, response, next_cursor)
    return PartnerList(items=items, next=next_cursor)


@router.post(
    "/partners/{partner_id}/secrets",
    response_model=PartnerOut,
    summary="Rotate a secret: the new one is active now, the old ones until not-after",
)
async def rotate_secret(
    partner_id: PartnerId,
    data: SecretRotation,
    background: BackgroundTasks,
    change: Change,
    principal: Principal = require(Role.ADMIN),
) -> PartnerOut | Response:
    _registry_changed(change.request, background, partner_id)
    return await change.once(
        lambda: service.rotate_secret(
            change.session,
            partner_id=partner_id,
            data=data,
            now=change.now(),
            secrets=change.request.app.state.partner_secrets,
        ),
        status_code=200,
    )


@router.post(
    "/partners/{partner_id}/status-mappings",
    status_code=status.HTTP_201_CREATED,
    response_model=StatusMappingOut,
    summary="Map a partner status to a canonical event type (then replay)",
)
async def add_status_mapping(
    partner_id: PartnerId,
    data: StatusMappingIn,
    change: Change,
    principal: Principal = require(Role.ADMIN),
) -> StatusMappingOut | Response:
    return await change.once(
        lambda: service.add_mapping(
            change.session, partner_id=partner_id, data=data, actor=principal.client_id
        ),
        status_code=201,
    )


@router.get(
    "/partners/{partner_id}/status-mappings",
    response_model=StatusMappingList,
    summary="A partner's admin-added status mappings",
)
async def list_status_mappings(
    partner_id: PartnerId,
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(Role.ADMIN),
) -> StatusMappingList:
    everything = await service.list_mappings(session, partner_id=partner_id)
    items, next_cursor = paging.page_of_list(
        everything.items, limit=limit, cursor=cursor, key=lambda m: (m.status,)
    )
    link_next(request, response, next_cursor)
    return StatusMappingList(items=items, next=next_cursor)


@router.get(
    "/unmapped-statuses",
    response_model=UnmappedStatusList,
    summary="Partner statuses that arrived without a mapping and were not emitted yet",
)
async def list_unmapped_statuses(
    request: Request,
    response: Response,
    session: DbSession,
    partner_id: Annotated[Id | None, Query()] = None,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(Role.ADMIN),
) -> UnmappedStatusList:
    everything = await service.unmapped_statuses(session, partner_id=partner_id)
    items, next_cursor = paging.page_of_list(
        everything.items, limit=limit, cursor=cursor, key=lambda u: (u.partner_id, u.status)
    )
    link_next(request, response, next_cursor)
    return UnmappedStatusList(items=items, next=next_cursor)


@router.post(
    "/replay",
    response_model=ReplayOut,
    summary="Re-run archived requests whose scans were unmapped (nothing emits twice)",
)
async def replay(
    data: ReplayIn,
    change: Change,
    principal: Principal = require(Role.ADMIN),
) -> ReplayOut | Response:
    async def run() -> ReplayOut:
        await service.refuse_partner_spelled_otherwise(
            change.session, data.partner_id, "body.partner_id"
        )
        result = await partners_service.replay_unmapped(
            change.session, partner_id=data.partner_id, now=change.now()
        )
        return ReplayOut(
            requests_replayed=result.requests_replayed,
            events_emitted=result.events_emitted,
            scans_resolved=result.scans_resolved,
        )

    return await change.once(run, status_code=200)


@router.get(
    "/raw-requests/{raw_id}",
    response_model=RawRequestOut,
    summary="An archived partner request, exactly as received",
)
async def get_raw_request(
    raw_id: UUID, session: DbSession, principal: Principal = require(Role.ADMIN)
) -> RawRequestOut:
    return await service.raw_request(session, raw_id=raw_id)
