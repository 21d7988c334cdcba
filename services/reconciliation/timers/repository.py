"""SQL of timers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.facts import batch
from services.reconciliation.models import Case, Timer

_PENDING = (Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))


async def pending_kinds(session: AsyncSession, case_id: str) -> dict[str, datetime]:
    rows = await session.execute(
        select(Timer.kind, Timer.due_at).where(Timer.case_id == case_id, *_PENDING)
    )
    return {k: d for k, d in rows.all()}


async def schedule(session: AsyncSession, *, case_id: str, kind: str, due_at: datetime) -> None:
    view = batch.current(session)
    if view is not None:
        view.schedule_timer(case_id, kind, due_at)  # written with the batch's other timers
        return
    stmt = (
        pg_insert(Timer)
        .values(case_id=case_id, kind=kind, due_at=due_at)
        .on_conflict_do_nothing(
            index_elements=["case_id", "kind"],
            index_where=Timer.fired_at.is_(None) & Timer.cancelled_at.is_(None),
        )
    )
    await session.execute(stmt)


async def cancel(session: AsyncSession, *, case_id: str, kinds: list[str], now: datetime) -> None:
    if not kinds:
        return
    view = batch.current(session)
    if view is not None:
        view.cancel_timer(case_id, kinds, now)
        return
    await session.execute(
        update(Timer)
        .where(Timer.case_id == case_id, Timer.kind.in_(kinds), *_PENDING)
        .values(cancelled_at=now)
    )


async def due(session: AsyncSession, *, now: datetime, limit: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Timer.id, Timer.case_id)
        .where(Timer.due_at <= now, *_PENDING)
        .order_by(Timer.due_at, Timer.id)
        .limit(limit)
    )
    return [(i, c) for i, c in rows.all()]


async def next_due(session: AsyncSession) -> datetime | None:
    """The earliest due time of a pending timer (None: no timer pending)."""
    result: datetime | None = await session.scalar(select(func.min(Timer.due_at)).where(*_PENDING))
    return result


async def claim(
    session: AsyncSession, *, timer_id: int, case_id: str, now: datetime
) -> tuple[Case, Timer] | None:
    """Lock the case, then the timer (the order every writer uses), skipping either when another
    worker holds it; None if it was fired, cancelled or moved meanwhile."""
    case = await session.scalar(
        select(Case).where(Case.case_id == case_id).with_for_update(skip_locked=True)
    )
    if case is None:
        return None
    timer = await session.scalar(
        select(Timer)
        .where(Timer.id == timer_id, Timer.due_at <= now, *_PENDING)
        .with_for_update(skip_locked=True)
    )
    if timer is None:
        return None
    return case, timer
