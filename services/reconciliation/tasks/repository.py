"""SQL of cross-team tasks and their comments."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import CaseTask, TaskComment
from shared import paging


async def of_case(
    session: AsyncSession,
    case_id: str,
    *,
    after: tuple[datetime, UUID] | None = None,
    limit: int | None = None,
    team: str | None = None,
) -> list[CaseTask]:
    """Oldest first, keyset-paginated on (created_at, task_id); every task without a limit;
    one team's alone when `team` is given."""
    order = [(CaseTask.created_at, False), (CaseTask.task_id, False)]
    query = select(CaseTask).where(CaseTask.case_id == case_id).order_by(*paging.order_by(order))
    if team is not None:
        query = query.where(CaseTask.team == team)
    if after is not None:
        query = query.where(paging.after(order, after))
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def get(session: AsyncSession, task_id: UUID, *, lock: bool = False) -> CaseTask | None:
    query = select(CaseTask).where(CaseTask.task_id == task_id)
    if lock:
        # The row as it is once locked, not the copy an earlier read in this session left in
        # the identity map: two requests closing one task must see the first one's DONE.
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def open_holds(
    session: AsyncSession, case_id: str, *, hold_kind: str, besides: UUID | None = None
) -> int:
    """How many open tasks of this hold kind the case has (other than `besides`)."""
    query = select(func.count()).where(
        CaseTask.case_id == case_id, CaseTask.hold_kind == hold_kind, CaseTask.status == "OPEN"
    )
    if besides is not None:
        query = query.where(CaseTask.task_id != besides)
    return int(await session.scalar(query) or 0)


async def ever_of_kind(session: AsyncSession, case_id: str, *, hold_kind: str) -> bool:
    """Whether the case ever had a task of this kind, open, done or cancelled."""
    query = select(CaseTask.task_id).where(
        CaseTask.case_id == case_id, CaseTask.hold_kind == hold_kind
    )
    return await session.scalar(query.limit(1)) is not None


async def listing(
    session: AsyncSession,
    *,
    team: str | None,
    status: str | None,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 500,
) -> list[CaseTask]:
    """Soonest due first, keyset-paginated on (due_at, task_id)."""
    order = [(CaseTask.due_at, False), (CaseTask.task_id, False)]
    query = select(CaseTask).order_by(*paging.order_by(order)).limit(limit)
    if team is not None:
        query = query.where(CaseTask.team == team)
    if status is not None:
        query = query.where(CaseTask.status == status)
    if after is not None:
        query = query.where(paging.after(order, after))
    return list(await session.scalars(query))


async def all_tasks(session: AsyncSession) -> list[CaseTask]:
    return list(await session.scalars(select(CaseTask)))


# Open and not alerted for its due time: alerted once per due time, so a task given a new date
# (the seller's, after a held payment missed the first) alerts again if it passes that one too.
# The `case_tasks` NOTIFY trigger (migration b7c1e5d9a2f4) fires for the same rows.
_UNALERTED = (
    CaseTask.status == "OPEN",
    or_(CaseTask.overdue_alerted_at.is_(None), CaseTask.overdue_alerted_at < CaseTask.due_at),
)


async def next_overdue_at(session: AsyncSession) -> datetime | None:
    """When the next open task not yet alerted for its due time falls due (None: none)."""
    result: datetime | None = await session.scalar(
        select(func.min(CaseTask.due_at)).where(*_UNALERTED)
    )
    return result


async def claim_overdue(session: AsyncSession, *, now: datetime, limit: int) -> list[CaseTask]:
    return list(
        await session.scalars(
            select(CaseTask)
            .where(*_UNALERTED, CaseTask.due_at <= now)
            .order_by(CaseTask.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def comments(session: AsyncSession, task_ids: list[UUID]) -> list[TaskComment]:
    if not task_ids:
        return []
    return list(
        await session.scalars(
            select(TaskComment).where(TaskComment.task_id.in_(task_ids)).order_by(TaskComment.id)
        )
    )
