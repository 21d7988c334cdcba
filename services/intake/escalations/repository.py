"""SQL of seller escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Escalation
from shared import paging

# Newest first; the id breaks ties, so that a cursor names one position.
ORDER = ((Escalation.filed_at, True), (Escalation.escalation_id, False))


def add(session: AsyncSession, escalation: Escalation) -> None:
    session.add(escalation)


async def get(
    session: AsyncSession, escalation_id: str, *, for_update: bool = False
) -> Escalation | None:
    query = select(Escalation).where(Escalation.escalation_id == escalation_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def search(
    session: AsyncSession,
    *,
    seller_id: str | None,
    return_id: str | None,
    limit: int,
    after: tuple[datetime, str] | None,
) -> Sequence[Escalation]:
    query = select(Escalation)
    if seller_id is not None:
        query = query.where(Escalation.seller_id == seller_id)
    if return_id is not None:
        query = query.where(Escalation.return_id == return_id)
    if after is not None:
        query = query.where(paging.after(ORDER, after))
    query = query.order_by(*paging.order_by(ORDER)).limit(limit)
    return (await session.scalars(query)).all()


async def pending_for_return(session: AsyncSession, return_id: str) -> Sequence[Escalation]:
    """The return's escalations held for its feed entry, locked, oldest first."""
    query = (
        select(Escalation)
        .where(Escalation.return_id == return_id, Escalation.state == "pending_return")
        .order_by(Escalation.filed_at, Escalation.escalation_id)
        .with_for_update()
    )
    return (await session.scalars(query)).all()
