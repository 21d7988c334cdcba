"""Suppression list management (ops_manager). Addresses come in request bodies only and
are kept as keyed hashes: URLs and logs never carry them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from services.notifications.addresses import address_hash
from services.notifications.models import Suppression
from services.notifications.suppressions import repository
from services.notifications.suppressions.schemas import (
    SuppressionIn,
    SuppressionListOut,
    SuppressionOut,
)
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.paging import Cursor, Limit, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["suppressions"])
MANAGERS = (Role.OPS_MANAGER,)
HashPath = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


def _out(row: Suppression) -> SuppressionOut:
    return SuppressionOut(
        address_hash=row.address_hash,
        reason=row.reason,
        detail=row.detail,
        source_message_id=row.source_message_id,
        created_by=row.created_by,
        created_at=row.created_at,
    )


@router.get(
    "/v1/suppressions",
    response_model=SuppressionListOut,
    summary="Suppressed addresses (as hashes), newest first",
)
async def list_suppressions(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(200, 1000),
    cursor: Cursor = None,
    principal: Principal = require(*MANAGERS),
) -> SuppressionListOut:
    rows = await repository.list_all(
        session,
        limit=limit + 1,
        after=paging.decode_cursor(cursor, (datetime, str)) if cursor is not None else None,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r.created_at, r.address_hash))
    link_next(request, response, next_cursor)
    return SuppressionListOut(items=[_out(r) for r in items], next=next_cursor)


@router.post(
    "/v1/suppressions",
    response_model=SuppressionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Suppress an address",
    responses={200: {"model": SuppressionOut, "description": "Already suppressed: unchanged"}},
)
async def add_suppression(
    data: SuppressionIn,
    response: Response,
    change: Change,
    principal: Principal = require(*MANAGERS),
) -> SuppressionOut | Response:
    key = change.request.app.state.runtime.settings.address_hash_key
    digest = address_hash(data.address, key)
    created = False

    async def run() -> SuppressionOut:
        nonlocal created
        created = await repository.add(
            change.session,
            {
                "address_hash": digest,
                "reason": data.reason,
                "detail": data.detail,
                "created_by": principal.client_id,
            },
        )
        row = await repository.get(change.session, digest)
        assert row is not None
        return _out(row)

    out = await change.once(
        run,
        # Already suppressed: nothing changed, so 200 rather than 201.
        status_code=lambda _: status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        response=response,
    )
    return out


@router.post(
    "/v1/suppressions/lookup",
    response_model=SuppressionOut,
    summary="Is this address suppressed? (404 if not)",
    responses={404: {"description": "The address is not on the suppression list"}},
)
async def lookup_suppression(
    data: SuppressionIn,
    request: Request,
    session: DbSession,
    principal: Principal = require(*MANAGERS, reads=True),
) -> SuppressionOut:
    digest = address_hash(data.address, request.app.state.runtime.settings.address_hash_key)
    row = await repository.get(session, digest)
    if row is None:
        raise Problem(404, "Not found", "That address is not on the suppression list.")
    return _out(row)


@router.delete(
    "/v1/suppressions/{address_hash}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take an address off the suppression list",
)
async def remove_suppression(
    address_hash: HashPath,
    change: Change,
    principal: Principal = require(*MANAGERS),
) -> Response:
    async def run() -> None:
        if not await repository.remove(change.session, address_hash):
            raise Problem(404, "Not found", "No suppression with that hash.")

    out = await change.once(run, status_code=status.HTTP_204_NO_CONTENT)
    if isinstance(out, Response):
        return out
    return Response(status_code=status.HTTP_204_NO_CONTENT)
