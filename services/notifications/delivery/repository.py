"""SQL of the dispatcher: claiming due messages under a lease, and the suppression lookup."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Message, Suppression


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[Message]:
    """Mark up to `limit` due messages as `sending` until `lease_until` and return them.

    Due: pending and scheduled for now or earlier, or `sending` under a lease that ran out
    (its dispatcher died mid-send). SKIP LOCKED lets several dispatchers share the work.
    """
    due = (
        select(Message.message_id)
        .where(
            or_(
                and_(Message.status == "pending", Message.next_attempt_at <= now),
                and_(Message.status == "sending", Message.lease_until < now),
            )
        )
        .order_by(Message.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.scalars(
        update(Message)
        .where(Message.message_id.in_(due))
        .values(status="sending", lease_until=lease_until)
        .returning(Message)
        .execution_options(synchronize_session=False)
    )
    return sorted(rows, key=lambda m: m.next_attempt_at)


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next message falls due: the earliest pending attempt or running-out lease."""
    pending = select(func.min(Message.next_attempt_at)).where(Message.status == "pending")
    leased = select(func.min(Message.lease_until)).where(Message.status == "sending")
    times = [await session.scalar(pending), await session.scalar(leased)]
    known = [t for t in times if t is not None]
    return min(known) if known else None


async def suppressed_hashes(session: AsyncSession, hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    return set(
        await session.scalars(
            select(Suppression.address_hash).where(Suppression.address_hash.in_(hashes))
        )
    )


async def still_leased(
    session: AsyncSession, message_ids: list[UUID], *, lease_until: datetime
) -> set[UUID]:
    """Of the given messages, those still `sending` under this lease; locked until commit."""
    return set(
        await session.scalars(
            select(Message.message_id)
            .where(
                Message.message_id.in_(message_ids),
                Message.status == "sending",
                Message.lease_until == lease_until,
            )
            .with_for_update()
        )
    )


async def renew_lease(
    session: AsyncSession, message_ids: list[UUID], *, held: datetime, until: datetime
) -> int:
    """Extend the lease of the given messages still `sending` under `held` to `until`; returns
    how many were extended (a message whose lease ran out and was taken over is not)."""
    result = await session.execute(
        update(Message)
        .where(
            Message.message_id.in_(message_ids),
            Message.status == "sending",
            Message.lease_until == held,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
