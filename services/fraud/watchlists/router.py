"""`/v1/watchlist`: manual entries raise the band of every event involving the entity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from services.fraud.watchlists import repository
from services.fraud.watchlists.schemas import WatchIn, WatchOut
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import IdempotencyKeyHeader, idempotent
from shared.problems import Problem
from shared.validation import Offset, RowId

router = APIRouter(tags=["fraud watchlists"])
EDITORS = (Role.OPS_AGENT, Role.OPS_MANAGER)


@router.get("/v1/watchlist", response_model=list[WatchOut], summary="Watchlist entries")
async def list_watchlist(
    session: DbSession,
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"] | None = None,
    active: bool | None = True,
    limit: int = Query(100, ge=1, le=500),
    offset: Annotated[Offset, Query()] = 0,
    principal: Principal = require(*EDITORS),
) -> list[WatchOut]:
    rows = await repository.list_entries(
        session, entity_type=entity_type, active=active, limit=limit, offset=offset
    )
    return [WatchOut.model_validate(r, from_attributes=True) for r in rows]


@router.post(
    "/v1/watchlist",
    response_model=WatchOut,
    status_code=status.HTTP_201_CREATED,
    summary="Put an entity on the watchlist by hand",
)
async def add_to_watchlist(
    data: WatchIn,
    request: Request,
    session: DbSession,
    principal: Principal = require(*EDITORS),
    idempotency_key: IdempotencyKeyHeader = None,
) -> WatchOut | Response:
    async def run() -> WatchOut:
        entry = await repository.add_once(
            session,
            entity_type=data.entity_type,
            entity_id=data.entity_id,
            source="manual",
            reason=data.reason,
            added_by=principal.client_id,
            added_at=datetime.now(UTC),
        )
        if entry is None:
            raise Problem(
                409, "Conflict", f"{data.entity_type} {data.entity_id} is on the watchlist already."
            )
        return WatchOut.model_validate(entry, from_attributes=True)

    return await idempotent(
        request, session, principal=principal, key=idempotency_key, action=run, status_code=201
    )


@router.delete(
    "/v1/watchlist/{entry_id}", response_model=WatchOut, summary="Take an entry off the watchlist"
)
async def remove_from_watchlist(
    entry_id: RowId,
    request: Request,
    session: DbSession,
    principal: Principal = require(*EDITORS),
    idempotency_key: IdempotencyKeyHeader = None,
) -> WatchOut | Response:
    async def run() -> WatchOut:
        entry = await repository.get_for_update(session, entry_id)
        if entry is None or not entry.active:
            raise Problem(404, "Not found", f"No active watchlist entry {entry_id}.")
        entry.active = False
        entry.removed_by = principal.client_id
        entry.removed_at = datetime.now(UTC)
        await session.flush()
        return WatchOut.model_validate(entry, from_attributes=True)

    return await idempotent(request, session, principal=principal, key=idempotency_key, action=run)
