"""`Idempotency-Key`: the one implementation every mutating endpoint of every service uses.

Per caller (the key's `client_id`): same key + same method, path and body → the stored response
(status and body), no second effect; same key + another body or route → 422; the first request
still in flight → 409 with Retry-After. The header is 1–255 visible ASCII characters (`!` to
`~`); anything else is a 422 naming `header.Idempotency-Key`. Without the header a request simply
runs. docs/security.md says the same for callers.

The key is claimed in its own short transaction (so a concurrent retry sees "in flight" at once
instead of blocking), and the response is stored in the request's own transaction, so it is kept
exactly when the effect is. A claim whose request died is reclaimable after `stale_after`. A
request that fails (4xx or 5xx) releases its claim: nothing happened, so a retry may run.

A path whose effect is one call of its own (intake's escalation and keyed feed entry) may write
the key's row itself, completed with the answer, in that call (`KeyedRequest`); when the call
finds the key taken it writes nothing, and the request goes through `idempotent` as any other.

An endpoint that changes something takes `change: Change`: the request, its transaction, its
clock, its caller and its key under one name, and `change.once(...)` runs the effect under the
key. The endpoint keeps its own `require(...)`: who may make a change is the route's duty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import DateTime, Integer, String, Update, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import Principal, authenticate
from shared.clock import Clock, RequestClock
from shared.db import DbSession, table_of
from shared.problems import Problem

T = TypeVar("T")

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Visible ASCII: the key is stored and compared exactly as sent, so no spaces or encodings.
KEY_PATTERN = r"^[!-~]+$"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description="Retry safely: the same key and body return the first answer (status and "
        "body) without acting twice; the same key with another body → 422; while the first "
        "request is in flight → 409. 1–255 visible ASCII characters, scoped to your API key.",
    ),
]


class IdempotencyKeyMixin:
    """Columns of a service's `idempotency_keys` table."""

    __tablename__ = "idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    route: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(slots=True)
class StoredResponse:
    status: int
    body: Any


@dataclass(slots=True)
class IdempotencyClaim:
    model: type[IdempotencyKeyMixin]
    client_id: str
    key: str

    async def complete(self, session: AsyncSession, status: int, body: Any) -> None:
        """Store the response in the request's transaction: kept if and only if the effect is."""
        await session.execute(
            _completion(self.model),
            {
                "claimed_client": self.client_id,
                "claimed_key": self.key,
                "response_status": status,
                "response_body": body,
                "completed_at": datetime.now(UTC),
            },
        )

    async def release(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """The request failed: forget the claim so that a retry with the same key can run."""
        m = self.model
        async with sessionmaker() as session, session.begin():
            await session.execute(
                delete(m).where(
                    m.client_id == self.client_id, m.key == self.key, m.completed_at.is_(None)
                )
            )


_COMPLETIONS: dict[type[IdempotencyKeyMixin], Update] = {}


def _completion(model: type[IdempotencyKeyMixin]) -> Update:
    """`complete`'s statement, built once per table. On the table, not the mapped class: the
    request's session never loads its claim's row, so the ORM's synchronisation of an update
    (evaluating its criteria against every object the session holds) had nothing to do."""
    built = _COMPLETIONS.get(model)
    if built is not None:
        return built
    t = table_of(model)
    built = _COMPLETIONS[model] = (
        update(t)
        .where(t.c.client_id == bindparam("claimed_client"), t.c.key == bindparam("claimed_key"))
        .values(
            response_status=bindparam("response_status"),
            response_body=bindparam("response_body"),
            completed_at=bindparam("completed_at"),
        )
    )
    return built


def _route(request: Request) -> str:
    """The concrete path: the same key on another case is a different request."""
    return f"{request.method} {request.url.path}"


def request_fingerprint(route: str, body: bytes) -> str:
    return hashlib.sha256(route.encode() + b"\n" + body).hexdigest()


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: type[IdempotencyKeyMixin],
    *,
    client_id: str,
    key: str,
    route: str,
    body: bytes,
    # Long enough for any real request; short, so a client retrying after a crash is not held off.
    stale_after: timedelta = timedelta(seconds=30),
) -> IdempotencyClaim | StoredResponse:
    """Claim `key` for this request, or return the response stored for an earlier identical one."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Problem(
            422,
            "Validation failed",
            f"{HEADER} must be 1–{MAX_KEY_LENGTH} characters.",
            type_="https://disputedesk.dev/problems/validation-failed",
            errors=[{"field": f"header.{HEADER}", "message": f"1–{MAX_KEY_LENGTH} characters"}],
        )
    fingerprint = request_fingerprint(route, body)
    m = model
    # The usual case, a new key, is one autocommitted statement: no BEGIN and COMMIT round
    # trips around it, and it is visible to a concurrent retry as soon as it returns.
    insert = (
        pg_insert(m)
        .values(client_id=client_id, key=key, route=route, request_hash=fingerprint)
        .on_conflict_do_nothing()
        .returning(m.key)
    )
    bind = sessionmaker.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        async with bind.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            inserted = await autocommit.scalar(insert)
    else:  # bound to something else (a test's connection): a transaction of its own
        async with sessionmaker() as session, session.begin():
            inserted = await session.scalar(insert)
    if inserted is not None:
        return IdempotencyClaim(m, client_id, key)
    async with sessionmaker() as session, session.begin():
        row = await session.scalar(
            select(m).where(m.client_id == client_id, m.key == key).with_for_update()
        )
        if row is None:  # released between our insert and select: let the caller retry
            raise Problem(
                409,
                "Conflict",
                f"A request with this {HEADER} is in flight.",
                headers={"Retry-After": "1"},
                errors=[{"field": f"header.{HEADER}", "message": "in flight; retry shortly"}],
            )
        if row.request_hash != fingerprint:
            raise Problem(
                422,
                "Idempotency key reused",
                f"This {HEADER} was used with a different request body or route.",
                type_="https://disputedesk.dev/problems/idempotency-key-reused",
                errors=[{"field": f"header.{HEADER}", "message": "reused with a different body"}],
            )
        if row.completed_at is not None and row.response_status is not None:
            return StoredResponse(row.response_status, row.response_body)
        if datetime.now(UTC) - row.created_at < stale_after:
            raise Problem(
                409,
                "Conflict",
                f"A request with this {HEADER} is still in flight.",
                headers={"Retry-After": "1"},
                errors=[{"field": f"header.{HEADER}", "message": "in flight; retry shortly"}],
            )
        row.created_at = datetime.now(UTC)  # the earlier attempt died: take the claim over
        return IdempotencyClaim(m, client_id, key)


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """What a claim of `key` records of its request, for a path that writes the key's row
    itself, completed, in the same call as the effect (intake's escalation filing and keyed
    feed entry): the row is then the one `claim` and `IdempotencyClaim.complete` would have
    left."""

    client_id: str
    key: str
    route: str
    request_hash: str


async def keyed_request(request: Request, principal: Principal, key: str) -> KeyedRequest:
    """The key's row fields for this request, as `idempotent` claims them."""
    route = _route(request)
    return KeyedRequest(
        principal.client_id, key, route, request_fingerprint(route, await request.body())
    )


def replay(stored: StoredResponse) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if stored.body is None:
        return Response(status_code=stored.status, headers=headers)
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)


async def idempotent(
    request: Request,
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    action: Callable[[], Awaitable[T]],
    status_code: int | Callable[[T], int] = 200,
    response: Response | None = None,
) -> T | Response:
    """Run `action` once per (client, key): a repeat gets the response stored with the effect.

    `action` returns what the endpoint returns (a model, a dict, or None for an empty answer);
    `status_code` is the endpoint's status, or a function of the result when it varies — then
    pass the endpoint's `response`, and a fresh answer gets that status too (a replay has its
    stored one)."""

    def answer(out: T) -> int:
        status = status_code(out) if callable(status_code) else status_code
        if response is not None:
            response.status_code = status
        return status

    if key is None:
        out = await action()
        answer(out)
        return out
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    guard = await claim(
        sessionmaker,
        request.app.state.idempotency_model,
        client_id=principal.client_id,
        key=key,
        route=_route(request),
        body=await request.body(),
    )
    if isinstance(guard, StoredResponse):
        return replay(guard)
    try:
        out = await action()
        # A constraint the action's writes break (a concurrent twin's row) shows at the flush:
        # here, so the claim is released and the client's retry is not "still in flight".
        await session.flush()
    except BaseException:
        await guard.release(sessionmaker)
        raise
    body = None if out is None else jsonable_encoder(out)
    await guard.complete(session, answer(out), body)
    return out


@dataclass(frozen=True, slots=True)
class ChangeContext:
    """What an endpoint that changes something works with: its request, its transaction, the
    service's clock, the authenticated caller and the request's `Idempotency-Key`, if any."""

    request: Request
    session: AsyncSession
    clock: Clock
    principal: Principal
    key: str | None

    def now(self) -> datetime:
        return self.clock.now()

    async def once(
        self,
        action: Callable[[], Awaitable[T]],
        *,
        status_code: int | Callable[[T], int] = 200,
        response: Response | None = None,
    ) -> T | Response:
        """`action` run at most once under the request's key (`idempotent`)."""
        return await idempotent(
            self.request,
            self.session,
            principal=self.principal,
            key=self.key,
            action=action,
            status_code=status_code,
            response=response,
        )


async def change_context(
    request: Request,
    session: DbSession,
    clock: RequestClock,
    # The same principal the route's `require(...)` checks: FastAPI solves `authenticate` once
    # per request, and the route class has already put it in the scope.
    principal: Annotated[Principal, Depends(authenticate)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> ChangeContext:
    return ChangeContext(request, session, clock, principal, idempotency_key)


Change = Annotated[ChangeContext, Depends(change_context)]
