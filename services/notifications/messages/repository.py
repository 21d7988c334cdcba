"""SQL of outgoing messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Message


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> UUID | None:
    """Insert unless a message with the same dedup key exists; the new id, or None."""
    return await session.scalar(
        pg_insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Message.message_id)
    )


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.status == "pending", Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)
