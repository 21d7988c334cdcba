"""SQL of the return event log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import ReturnEventLog


def add(session: AsyncSession, row: ReturnEventLog) -> None:
    session.add(row)


async def add_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await session.execute(insert(ReturnEventLog), list(rows))


async def for_return(
    session: AsyncSession, *, return_id: str, limit: int
) -> Sequence[ReturnEventLog]:
    return (
        await session.scalars(
            select(ReturnEventLog)
            .where(ReturnEventLog.return_id == return_id)
            .order_by(ReturnEventLog.occurred_at, ReturnEventLog.recorded_at, ReturnEventLog.ce_id)
            .limit(limit)
        )
    ).all()
