"""SQL of digests and their items."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Digest, DigestItem, Message


async def open_digest(
    session: AsyncSession, *, seller_id: str, recipient: str, flush_at: datetime
) -> Digest:
    """The seller's open digest, created (due at `flush_at`) if there is none; row-locked."""
    await session.execute(
        pg_insert(Digest)
        .values(digest_id=uuid4(), seller_id=seller_id, recipient=recipient, flush_at=flush_at)
        .on_conflict_do_nothing(
            index_elements=["seller_id"], index_where=text("flushed_at IS NULL")
        )
    )
    digest = await session.scalar(
        select(Digest)
        .where(Digest.seller_id == seller_id, Digest.flushed_at.is_(None))
        .with_for_update()
    )
    assert digest is not None
    digest.recipient = recipient  # the latest address the seller gave us
    return digest


async def add_item(session: AsyncSession, values: dict[str, Any]) -> bool:
    inserted = await session.scalar(
        pg_insert(DigestItem)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(DigestItem.id)
    )
    return inserted is not None


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Digest]:
    return list(
        await session.scalars(
            select(Digest)
            .where(Digest.flushed_at.is_(None), Digest.flush_at <= now)
            .order_by(Digest.flush_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


# When the earliest open digest falls due (NULL: no digest open).
NEXT_FLUSH_AT = select(func.min(Digest.flush_at).label("flush_at")).where(
    Digest.flushed_at.is_(None)
)


async def next_flush_at(session: AsyncSession) -> datetime | None:
    """When the earliest open digest falls due (None: no digest open)."""
    result: datetime | None = await session.scalar(NEXT_FLUSH_AT)
    return result


async def items_of(session: AsyncSession, digest_id: UUID) -> list[DigestItem]:
    return list(
        await session.scalars(
            select(DigestItem).where(DigestItem.digest_id == digest_id).order_by(DigestItem.id)
        )
    )


async def withdraw_case_lessons(session: AsyncSession, case_id: str) -> int:
    """Take the case's lessons out of every digest not yet sent; how many were taken.

    The digests are locked first: a flush running now holds its digest, so this waits for it
    and then finds the digest sent (and leaves it), instead of deleting a lesson the flush has
    already read into its email."""
    open_digests = list(
        await session.scalars(
            select(Digest.digest_id)
            .join(DigestItem, DigestItem.digest_id == Digest.digest_id)
            .where(DigestItem.case_id == case_id, Digest.flushed_at.is_(None))
            .with_for_update(of=Digest)
        )
    )
    if not open_digests:
        return 0
    result = await session.execute(
        delete(DigestItem).where(
            DigestItem.case_id == case_id, DigestItem.digest_id.in_(open_digests)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def unsent_digests_teaching(session: AsyncSession, case_id: str) -> list[Digest]:
    """Digests already turned into a message that teaches from this case but has not gone out
    (waiting for the seller's next day with room under the daily limit, or held for an
    address); their messages row-locked.

    A dispatcher claims a message by marking it `sending` under the row's lock: one it holds
    is waited for and then no longer matches, so it goes out as rendered; one not yet claimed
    stays locked here until this transaction commits."""
    return list(
        await session.scalars(
            select(Digest)
            .join(Message, Message.message_id == Digest.message_id)
            .where(
                Digest.flushed_at.is_not(None),
                Message.status.in_(("pending", "held")),
                Digest.digest_id.in_(
                    select(DigestItem.digest_id).where(DigestItem.case_id == case_id)
                ),
            )
            .with_for_update(of=Message)
        )
    )


async def remove_case_items(session: AsyncSession, case_id: str, digest_ids: list[UUID]) -> None:
    await session.execute(
        delete(DigestItem).where(
            DigestItem.case_id == case_id, DigestItem.digest_id.in_(digest_ids)
        )
    )
