"""Async database engine, sessions and the request-scoped unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.outbox import took_enqueued


def make_engine(url: str, *, pool_size: int = 10, **kwargs: Any) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # A dead connection after a database restart surfaces as a retryable error, not a hang.
        connect_args={"timeout": 10, "command_timeout": 60},
        **kwargs,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class, typed as one. Declarative mapping types `__table__` as
    any FromClause, while `insert()` and `update()` want a Table; every model here maps one."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises.

    Endpoints never call commit(). The commit happens before the response is sent, so a `2xx`
    always means the change is durable. A request that enqueued events wakes the service's
    outbox relay once it has committed, so they are published now rather than at its next poll.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        async with session.begin():
            yield session
        runtime = getattr(request.app.state, "runtime", None)
        if took_enqueued(session) and runtime is not None:
            runtime.relay.wake()


# scope="function" runs the commit as soon as the endpoint returns, before the response is sent;
# FastAPI's default would commit after the client already saw its 2xx.


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
