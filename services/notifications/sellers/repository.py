"""SQL of the seller directory, and of the held messages it releases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Message, SellerProfile, SellerProfileChange

# Advisory-lock namespace of the seller directory (the first key of the two-key form).
LOCK_NAMESPACE = 0x5E11


async def lock_seller(session: AsyncSession, seller_id: str, *, exclusive: bool) -> None:
    """A transaction-scoped lock on one seller's directory entry. A directory update takes it
    exclusively and a consumer about to hold a message takes it shared (consumers never wait
    on each other): a message is then either held before the update, which releases it, or
    queued after it, with the new address; never held unseen by the update that would free it."""
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    await session.execute(select(lock(LOCK_NAMESPACE, func.hashtext(seller_id))))


async def get(session: AsyncSession, seller_id: str, *, lock: bool = False) -> SellerProfile | None:
    query = select(SellerProfile).where(SellerProfile.seller_id == seller_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


def add(session: AsyncSession, row: SellerProfile | SellerProfileChange) -> None:
    session.add(row)


async def history(session: AsyncSession, seller_id: str) -> list[SellerProfileChange]:
    return list(
        await session.scalars(
            select(SellerProfileChange)
            .where(SellerProfileChange.seller_id == seller_id)
            .order_by(SellerProfileChange.version.desc())
        )
    )


async def release_held(
    session: AsyncSession, *, seller_id: str, recipient: str, recipient_hash: str, now: datetime
) -> int:
    """Held messages of this seller get its address and become due now."""
    result = await session.execute(
        update(Message)
        .where(Message.seller_id == seller_id, Message.status == "held")
        .values(
            status="pending",
            recipient=recipient,
            recipient_hash=recipient_hash,
            # A held reminder keeps its own time; everything else was due already.
            next_attempt_at=func.greatest(Message.next_attempt_at, now),
        )
        .returning(Message.message_id)
    )
    return len(result.all())
