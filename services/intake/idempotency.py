"""`Idempotency-Key` on intake's mutating POSTs: one wrapper around shared/idempotency.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import IdempotencyKey
from shared.auth import Principal
from shared.idempotency import StoredResponse, claim

M = TypeVar("M", bound=BaseModel)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[!-~]+$",  # printable ASCII: it is stored and compared as sent
        description="Same key + same body → the stored response; different body → 422; "
        "still in flight → 409.",
    ),
]


async def idempotent(
    request: Request,
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    status_code: int | Callable[[M], int],
    action: Callable[[], Awaitable[M]],
) -> M | JSONResponse:
    """Run `action` once per (client, key): a repeat gets the response stored with the effect.
    `status_code` may depend on the outcome (a held escalation is 202, a filed one 201)."""
    if key is None:
        return await action()
    guard = await claim(
        request.app.state.sessionmaker,
        IdempotencyKey,
        client_id=principal.client_id,
        key=key,
        # The concrete path: the same key on another escalation is a different request.
        route=f"{request.method} {request.url.path}",
        body=await request.body(),
    )
    if isinstance(guard, StoredResponse):
        return JSONResponse(guard.body, status_code=guard.status)
    try:
        out = await action()
    except BaseException:
        await guard.release(request.app.state.sessionmaker)
        raise
    status = status_code(out) if callable(status_code) else status_code
    await guard.complete(session, status, out.model_dump(mode="json"))
    return out
