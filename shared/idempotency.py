"""`Idempotency-Key` for mutating POSTs, as docs/architecture.md describes it:
same key + same body → the stored response; same key + different body → 422; in flight → 409.

The key is claimed in its own short transaction (so a concurrent retry sees "in flight" at once
instead of blocking), and the response is stored in the request's own transaction, so it is kept
exactly when the effect is. A claim whose request died is reclaimable after `stale_after`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.problems import Problem

HEADER = "Idempotency-Key"


class IdempotencyKeyMixin:
    """Columns of a service's `idempotency_keys` table."""

    __tablename__ = "idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
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
        m = self.model
        await session.execute(
            update(m)
            .where(m.client_id == self.client_id, m.key == self.key)
            .values(response_status=status, response_body=body, completed_at=datetime.now(UTC))
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
    if not key or len(key) > 200:
        raise Problem(
            422,
            "Validation failed",
            f"{HEADER} must be 1–200 characters.",
            errors=[{"field": f"header.{HEADER}", "message": "1–200 characters"}],
        )
    fingerprint = request_fingerprint(route, body)
    m = model
    async with sessionmaker() as session, session.begin():
        inserted = await session.scalar(
            pg_insert(m)
            .values(client_id=client_id, key=key, route=route, request_hash=fingerprint)
            .on_conflict_do_nothing()
            .returning(m.key)
        )
        if inserted is not None:
            return IdempotencyClaim(m, client_id, key)
        row = await session.scalar(
            select(m).where(m.client_id == client_id, m.key == key).with_for_update()
        )
        if row is None:  # released between our insert and select: let the caller retry
            raise Problem(409, "Conflict", "A request with this Idempotency-Key is in flight.")
        if row.request_hash != fingerprint:
            raise Problem(
                422,
                "Idempotency key reused",
                f"This {HEADER} was used with a different request body or route.",
                errors=[{"field": f"header.{HEADER}", "message": "reused with a different body"}],
            )
        if row.completed_at is not None and row.response_status is not None:
            return StoredResponse(row.response_status, row.response_body)
        if datetime.now(UTC) - row.created_at < stale_after:
            raise Problem(
                409,
                "Conflict",
                "A request with this Idempotency-Key is still in flight.",
                headers={"Retry-After": "1"},
            )
        row.created_at = datetime.now(UTC)  # the earlier attempt died: take the claim over
        return IdempotencyClaim(m, client_id, key)
