"""Reading a service's database from a test (tests may look; services never read each other's)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine
from tests.support.services import RunningService


async def scalar(service: RunningService, sql: str, **params: Any) -> Any:
    async with service.runtime.sessionmaker() as session:
        return (await session.execute(text(sql), params)).scalar()


async def rows(service: RunningService, sql: str, **params: Any) -> list[Any]:
    async with service.runtime.sessionmaker() as session:
        return list((await session.execute(text(sql), params)).all())


async def execute(service: RunningService, sql: str, **params: Any) -> None:
    """Write to the service's database behind its back, as a test setting the scene does."""
    async with service.runtime.sessionmaker() as session, session.begin():
        await session.execute(text(sql), params)


@contextmanager
def statements_sent(service: RunningService) -> Iterator[list[str]]:
    """The SQL texts the service's engine sends while the block runs (its background loops'
    too: filter by what the test is about)."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        sent.append(sql)

    engine = service.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


@contextmanager
def pool_checkouts(service: RunningService) -> Iterator[dict[str, int]]:
    """The most connections the service's pool had checked out at once while the block ran
    (`peak`)."""
    pool = service.runtime.engine.sync_engine.pool
    out = {"now": 0, "peak": 0}

    def checked_out(*_: Any) -> None:
        out["now"] += 1
        out["peak"] = max(out["peak"], out["now"])

    def checked_in(*_: Any) -> None:
        out["now"] -= 1

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    try:
        yield out
    finally:
        event.remove(pool, "checkout", checked_out)
        event.remove(pool, "checkin", checked_in)


@asynccontextmanager
async def scratch_database(harness: Any, prefix: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A database of the test's own on the stack's PostgreSQL (its URL and an engine on it),
    dropped afterwards: for migrations, which must not touch the services' databases."""
    stack: Any = harness.stack
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(stack.postgres.create_database, name)
    url = stack.postgres.database_url(name)
    engine = make_engine(url, pool_size=1)
    try:
        yield url, engine
    finally:
        await engine.dispose()
        await asyncio.to_thread(stack.postgres.drop_database, name)
