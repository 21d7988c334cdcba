"""SQL of cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case, TimelineEntry


async def get_by_return_for_update(session: AsyncSession, return_id: str) -> Case | None:
    return await session.scalar(
        select(Case).where(Case.return_id == return_id).with_for_update()
    )


async def get(session: AsyncSession, case_id: str) -> Case | None:
    return await session.get(Case, case_id)


def add(session: AsyncSession, case: Case, entry: TimelineEntry) -> None:
    session.add(case)
    session.add(entry)


async def timeline(session: AsyncSession, case_id: str) -> list[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry).where(TimelineEntry.case_id == case_id).order_by(TimelineEntry.id)
    )
    return list(rows)
