"""SQL of the suppression list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Suppression
from shared import paging

# Newest first; the hash breaks ties, so that a cursor names one position.
ORDER = ((Suppression.created_at, True), (Suppression.address_hash, False))


async def list_all(
    session: AsyncSession, *, limit: int, after: tuple[datetime, str] | None = None
) -> list[Suppression]:
    query = select(Suppression).order_by(*paging.order_by(ORDER)).limit(limit)
    if after is not None:
        query = query.where(paging.after(ORDER, after))
    return list(await session.scalars(query))


async def add(session: AsyncSession, values: dict[str, object]) -> bool:
    inserted = await session.scalar(
        pg_insert(Suppression)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["address_hash"])
        .returning(Suppression.address_hash)
    )
    return inserted is not None


async def get(session: AsyncSession, address_hash: str) -> Suppression | None:
    return await session.get(Suppression, address_hash)


async def remove(session: AsyncSession, address_hash: str) -> bool:
    result = await session.execute(
        delete(Suppression).where(Suppression.address_hash == address_hash)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
