"""Reading a service's database from a test (tests may look; services never read each other's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.support.services import RunningService


async def scalar(service: RunningService, sql: str, **params: Any) -> Any:
    async with service.runtime.sessionmaker() as session:
        return (await session.execute(text(sql), params)).scalar()


async def rows(service: RunningService, sql: str, **params: Any) -> list[Any]:
    async with service.runtime.sessionmaker() as session:
        return list((await session.execute(text(sql), params)).all())
