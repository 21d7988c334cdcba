"""SQL of watchlists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.models import WatchlistEntry
from shared import paging


async def active_for(
    session: AsyncSession, entities: Iterable[tuple[str, str]]
) -> list[WatchlistEntry]:
    keys = list(set(entities))
    if not keys:
        return []
    return list(
        (
            await session.scalars(
                select(WatchlistEntry)
                .where(WatchlistEntry.active)
                .where(tuple_(WatchlistEntry.entity_type, WatchlistEntry.entity_id).in_(keys))
            )
        ).all()
    )


async def add_once(
    session: AsyncSession,
    *,
    entity_type: str,
    entity_id: str,
    source: str,
    reason: str,
    added_by: str,
    added_at: datetime,
) -> WatchlistEntry | None:
    """Add an active entry unless one from the same source is active; None if it was."""
    entry_id = await session.scalar(
        pg_insert(WatchlistEntry)
        .values(
            entity_type=entity_type,
            entity_id=entity_id,
            source=source,
            reason=reason,
            added_by=added_by,
            added_at=added_at,
            active=True,
        )
        .on_conflict_do_nothing(
            index_elements=["entity_type", "entity_id", "source"], index_where=text("active")
        )
        .returning(WatchlistEntry.id)
    )
    return await session.get(WatchlistEntry, entry_id) if entry_id is not None else None


async def remove_automatic(
    session: AsyncSession, *, entity_type: str, entity_id: str, at: datetime
) -> None:
    """Deactivate the entity's automatic entry (its alerts are all closed)."""
    await session.execute(
        update(WatchlistEntry)
        .where(
            WatchlistEntry.entity_type == entity_type,
            WatchlistEntry.entity_id == entity_id,
            WatchlistEntry.source == "automatic",
            WatchlistEntry.active,
        )
        .values(active=False, removed_by="system", removed_at=at)
    )


# Newest entry first.
WATCH_ORDER = ((WatchlistEntry.id, True),)


async def list_entries(
    session: AsyncSession,
    *,
    entity_type: str | None,
    active: bool | None,
    limit: int,
    after: tuple[int] | None,
) -> list[WatchlistEntry]:
    q = select(WatchlistEntry)
    if entity_type:
        q = q.where(WatchlistEntry.entity_type == entity_type)
    if active is not None:
        q = q.where(WatchlistEntry.active == active)
    if after is not None:
        q = q.where(paging.after(WATCH_ORDER, after))
    q = q.order_by(*paging.order_by(WATCH_ORDER)).limit(limit)
    return list((await session.scalars(q)).all())


async def get_for_update(session: AsyncSession, entry_id: int) -> WatchlistEntry | None:
    return await session.scalar(
        select(WatchlistEntry).where(WatchlistEntry.id == entry_id).with_for_update()
    )
