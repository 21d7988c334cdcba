"""The seller directory over HTTP: the marketplace keeps each seller's profile; the desk reads
it (addresses masked). Addresses come in request bodies only, never in URLs or logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from services.notifications.addresses import mask
from services.notifications.models import SellerProfile
from services.notifications.sellers import repository, service
from services.notifications.sellers.schemas import (
    SellerProfileChangeOut,
    SellerProfileIn,
    SellerProfileOut,
)
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.problems import Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["sellers"])
SellerIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]


async def _out(
    session: DbSession, profile: SellerProfile, *, full: bool, released: int = 0
) -> SellerProfileOut:
    history = await repository.history(session, profile.seller_id)
    return SellerProfileOut(
        seller_id=profile.seller_id,
        version=profile.version,
        emails=list(profile.emails) if full else [mask(e) for e in profile.emails],
        failing_emails=[e if full else mask(e) for e in profile.failing_emails or []],
        display_name=profile.display_name,
        language=profile.language,
        phone=profile.phone if full or profile.phone is None else f"***{profile.phone[-3:]}",
        preferences=dict(profile.preferences),
        updated_by=profile.updated_by,
        updated_at=profile.updated_at,
        history=[
            SellerProfileChangeOut(
                version=h.version,
                changed_by=h.changed_by,
                changed_at=h.changed_at,
                changed_fields=list(h.changed_fields),
            )
            for h in history
        ],
        released_messages=released,
    )


@router.put(
    "/v1/sellers/{seller_id}",
    response_model=SellerProfileOut,
    status_code=status.HTTP_200_OK,
    summary="Create or replace a seller's contact profile (a new version when anything changed)",
    responses={201: {"model": SellerProfileOut, "description": "The seller is new"}},
)
async def put_seller(
    seller_id: SellerIdPath,
    data: SellerProfileIn,
    response: Response,
    change: Change,
    principal: Principal = require(Role.MARKETPLACE),
) -> SellerProfileOut | Response:
    runtime = change.request.app.state.runtime
    created = False

    async def run() -> SellerProfileOut:
        nonlocal created
        saved = await service.save(
            change.session,
            seller_id=seller_id,
            data=data,
            actor=principal.client_id,
            now=runtime.clock.now(),
            hash_key=runtime.settings.address_hash_key,
        )
        created = saved.created
        return await _out(change.session, saved.profile, full=True, released=saved.released)

    out = await change.once(
        run,
        status_code=lambda _: status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        response=response,
    )
    return out


@router.get(
    "/v1/sellers/{seller_id}",
    response_model=SellerProfileOut,
    summary="A seller's contact profile and who changed it when",
    responses={404: {"description": "The seller is not in the directory"}},
)
async def get_seller(
    seller_id: SellerIdPath,
    session: DbSession,
    principal: Principal = require(Role.MARKETPLACE, Role.OPS_AGENT, Role.OPS_MANAGER),
) -> SellerProfileOut:
    profile = await repository.get(session, seller_id)
    if profile is None:
        raise Problem(404, "Not found", "That seller is not in the directory.")
    # The marketplace gave us the addresses; the desk needs to recognise them, not copy them.
    return await _out(session, profile, full=principal.has(Role.MARKETPLACE))
