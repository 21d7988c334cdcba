"""A pooled connection's asyncpg driver, for the few hot statements sent to asyncpg itself.

SQLAlchemy's `AsyncConnection` and `AsyncSession` build a `Connection`, run greenlets to begin,
execute and close, and wrap every result; for a statement whose text is fixed and whose rows
are read as they come, that costs about twice the driver's own work (intake's webhook
statement, the outbox relay's round: `docs/cpu.md`). Here the connection is checked out of the
engine's pool itself, so the pool's rules still hold: its size, the ping of a connection that
sat idle (`shared.db`), the return to the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asyncpg import Connection, PostgresError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Connection]:
    """asyncpg's connection of a connection checked out of `engine`'s pool, returned to it on
    leaving. A failure that leaves the connection closed or in an unknown state (anything but
    PostgreSQL refusing a statement) invalidates it, as SQLAlchemy's `Connection` would: it is
    never handed out again. Transactions are the caller's (`connection.transaction()`)."""
    pooled = await greenlet_spawn(engine.sync_engine.pool.connect)
    driver = pooled.driver_connection
    assert driver is not None
    unusable: BaseException | None = None
    try:
        yield driver
    except BaseException as exc:
        # A cancellation too: it may have landed mid-statement, leaving an unknown state.
        if driver.is_closed() or not isinstance(exc, PostgresError):
            unusable = exc
        raise
    finally:
        # The pool's reset rolls back only transactions SQLAlchemy began: one left open here
        # would go back to the pool holding its locks (the relay's advisory lock: every replica
        # would miss it from then on), so such a connection is discarded too.
        if unusable is not None or (not driver.is_closed() and driver.is_in_transaction()):
            await greenlet_spawn(pooled.invalidate, unusable)
        await greenlet_spawn(pooled.close)
