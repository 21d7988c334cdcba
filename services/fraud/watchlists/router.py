"""`/v1/watchlist`: manual entries raise the band of every event involving the entity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from services.fraud.watchlists import repository
from services.fraud.watchlists.schemas import WatchIn, WatchOut, WatchPage
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.paging import Cursor, Limit, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute
from shared.validation import RowId

router = APIRouter(route_class=ServiceRoute, tags=["fraud watchlists"])
EDITORS = (Role.OPS_AGENT, Role.OPS_MANAGER)


@router.get("/v1/watchlist", response_model=WatchPage, summary="Watchlist entries, newest first")
async def list_watchlist(
    request: Request,
    response: Response,
    session: DbSession,
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"] | None = None,
    active: bool | None = True,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*EDITORS),
) -> WatchPage:
    rows = await repository.list_entries(
        session,
        entity_type=entity_type,
        active=active,
        limit=limit + 1,
        after=paging.decode_cursor(cursor, (int,)) if cursor is not None else None,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r.id,))
    link_next(request, response, next_cursor)
    return WatchPage(
        items=[WatchOut.model_validate(r, from_attributes=True) for r in items], next=next_cursor
    )


@router.post(
    "/v1/watchlist",
    response_model=WatchOut,
    status_code=status.HTTP_201_CREATED,
    summary="Put an entity on the watchlist by hand",
)
async def add_to_watchlist(
    data: WatchIn,
    change: Change,
    principal: Principal = require(*EDITORS),
) -> WatchOut | Response:
    async def run() -> WatchOut:
        entry = await repository.add_once(
            change.session,
            entity_type=data.entity_type,
            entity_id=data.entity_id,
            source="manual",
            reason=data.reason,
            added_by=principal.client_id,
            added_at=datetime.now(UTC),
        )
        if entry is None:
            raise Problem(
                409,
                "Conflict",
                f"{data.entity_type} {data.entity_id} is on the watchlist already.",
                errors=[{"field": "body.entity_id", "message": "on the watchlist already"}],
            )
        return WatchOut.model_validate(entry, from_attributes=True)

    return await change.once(run, status_code=201)


@router.delete(
    "/v1/watchlist/{entry_id}", response_model=WatchOut, summary="Take an entry off the watchlist"
)
async def remove_from_watchlist(
    entry_id: RowId,
    change: Change,
    principal: Principal = require(*EDITORS),
) -> WatchOut | Response:
    async def run() -> WatchOut:
        entry = await repository.get_for_update(change.session, entry_id)
        if entry is None or not entry.active:
            raise Problem(404, "Not found", f"No active watchlist entry {entry_id}.")
        entry.active = False
        entry.removed_by = principal.client_id
        entry.removed_at = datetime.now(UTC)
        await change.session.flush()
        return WatchOut.model_validate(entry, from_attributes=True)

    return await change.once(run)
