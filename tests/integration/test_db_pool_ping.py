"""The connection pool pings a connection only when it sat idle: under load a connection comes
back within milliseconds and a ping per checkout would be a round trip per request and per
consumer batch; after a quiet spell (a database restart's window) a dead connection is still
replaced before anyone uses it."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from shared import db
from tests.support.db import scratch_database


def _count_pings(engine: Any) -> list[int]:
    calls = [0]
    dialect = engine.sync_engine.dialect
    real = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        calls[0] += 1
        return bool(real(dbapi_connection))

    dialect.do_ping = counted
    return calls


async def test_a_busy_connection_is_not_pinged_and_an_idle_dead_one_is_replaced(
    harness: Any,
) -> None:
    async with scratch_database(harness, "pingtest") as (url, _):
        engine = db.make_engine(url, pool_size=1, ping_idle_s=0.3)
        pings = _count_pings(engine)
        try:
            for _ in range(5):  # back to back, as under load
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            assert pings[0] == 0

            async with engine.connect() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            async with scratch_engine(url) as other:
                await other.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
            await asyncio.sleep(0.5)  # idle longer than ping_idle_s: pinged, found dead
            async with engine.connect() as conn:
                new_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            assert pings[0] == 1
            assert new_pid != pid
        finally:
            await engine.dispose()


class scratch_engine:
    """A second, unpooled connection to terminate the first one's backend from."""

    def __init__(self, url: str) -> None:
        self.engine = db.make_engine(url, pool_size=1)

    async def __aenter__(self) -> Any:
        self.conn = await self.engine.connect()
        return self.conn

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()
        await self.engine.dispose()
