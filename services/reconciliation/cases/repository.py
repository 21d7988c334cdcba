"""SQL of cases and their timelines, including the review desk's queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.facts import batch
from services.reconciliation.models import Case, CaseTask, TimelineEntry

# The case that stands for its return: not one closed because the return is another seller's.
LIVE = Case.ownership_refused_at.is_(None)


async def lock_by_return(session: AsyncSession, return_id: str) -> Case | None:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        return view.cases.get(return_id)  # locked when the batch's view was read
    return await session.scalar(
        select(Case).where(Case.return_id == return_id, LIVE).with_for_update()
    )


async def lock(session: AsyncSession, case_id: str, *, skip_locked: bool = False) -> Case | None:
    """The case row, locked; with `skip_locked`, None when another transaction holds it."""
    return await session.scalar(
        select(Case).where(Case.case_id == case_id).with_for_update(skip_locked=skip_locked)
    )


async def get(session: AsyncSession, case_id: str) -> Case | None:
    return await session.get(Case, case_id)


async def get_by_return(session: AsyncSession, return_id: str) -> Case | None:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        return view.cases.get(return_id)
    return await session.scalar(select(Case).where(Case.return_id == return_id, LIVE))


def detach(session: AsyncSession, case: Case, *, now: datetime) -> None:
    """The case stops standing for its return (the feed gave the return to another seller):
    later facts of the return find no case, or the owner's own."""
    case.ownership_refused_at = now
    view = batch.current(session)
    if view is not None and view.covers(case.return_id):
        view.cases[case.return_id] = None


def add(session: AsyncSession, case: Case) -> None:
    session.add(case)
    view = batch.current(session)
    if view is not None and view.covers(case.return_id):
        view.cases[case.return_id] = case


class LastEntry(NamedTuple):
    """What the case's last timeline row at its version says: which move, by whom, why, and
    the event it carried."""

    kind: str
    actor: str
    reason: str | None
    data: dict[str, Any] | None


# Timeline rows at a version that tell of a move (its email going out) without being one: a
# repeat of a request is judged against the move before them.
TELLING = frozenset({"EMAIL_SENT", "EMAIL_FAILED"})


async def last_entry(
    session: AsyncSession, case: Case, *, passing: frozenset[str] = frozenset()
) -> LastEntry | None:
    """The last timeline row at the case's current version whose kind is not in `passing`
    (rows that tell of the move without being one, such as its email going out): what a repeat
    of a request is judged against. A consumer batch holds the rows its handlers wrote until
    they have all run, so those are read before the table."""
    view = batch.current(session)
    if view is not None:
        for row in reversed(view.timeline):
            if row["case_id"] == case.case_id and row["case_version"] == case.version:
                if row["kind"] not in passing:
                    return LastEntry(
                        str(row["kind"]), str(row["actor"]), row["reason"], row["data"]
                    )
    entry: TimelineEntry | None = await session.scalar(
        select(TimelineEntry)
        .where(
            TimelineEntry.case_id == case.case_id,
            TimelineEntry.case_version == case.version,
            TimelineEntry.kind.not_in(passing) if passing else true(),
        )
        .order_by(TimelineEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return None
    return LastEntry(entry.kind, entry.actor, entry.reason, entry.data)


async def timeline(session: AsyncSession, case_id: str) -> list[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry).where(TimelineEntry.case_id == case_id).order_by(TimelineEntry.id)
    )
    return list(rows)


def worked_by(team: str) -> ColumnElement[bool]:
    """A case is a team's when the desk asked that team something on it (a task, whatever its
    status): the team's share of the desk's cases, as its task list is its share of the tasks.
    Read on the tasks' `case_id` index."""
    return exists().where(CaseTask.case_id == Case.case_id, CaseTask.team == team)


async def is_teams(session: AsyncSession, case_id: str, team: str) -> bool:
    found = await session.scalar(
        select(CaseTask.task_id).where(CaseTask.case_id == case_id, CaseTask.team == team).limit(1)
    )
    return found is not None


async def count_by_state(session: AsyncSession, *, team: str | None = None) -> dict[str, int]:
    """How many cases are in each state (one grouped scan of the cases table); a team's cases
    alone when `team` is given."""
    stmt = select(Case.state, func.count()).group_by(Case.state)
    if team is not None:
        stmt = stmt.where(worked_by(team))
    rows = await session.execute(stmt)
    return {state: int(n) for state, n in rows.all()}


async def queue(
    session: AsyncSession,
    *,
    filters: dict[str, Any],
    opened_before: datetime | None,
    opened_after: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
    team: str | None = None,
) -> list[Case]:
    """Oldest first, keyset-paginated on (opened_at, case_id); a team's cases alone when
    `team` is given."""
    stmt: Select[tuple[Case]] = select(Case)
    if team is not None:
        stmt = stmt.where(worked_by(team))
    for column in (
        "return_id",
        "seller_id",
        "state",
        "partner_id",
        "claim_type",
        "fraud_band",
        "assignee",
        "sla_breached",
    ):
        value = filters.get(column)
        if value is not None:
            stmt = stmt.where(getattr(Case, column) == value)
    if filters.get("seller_replied") is not None:
        unread = Case.seller_unread_since.is_not(None)
        stmt = stmt.where(unread if filters["seller_replied"] else ~unread)
    if opened_before is not None:
        stmt = stmt.where(Case.opened_at <= opened_before)
    if opened_after is not None:
        stmt = stmt.where(Case.opened_at >= opened_after)
    if after is not None:
        at, case_id = after
        stmt = stmt.where(
            or_(Case.opened_at > at, and_(Case.opened_at == at, Case.case_id > case_id))
        )
    stmt = stmt.order_by(Case.opened_at, Case.case_id).limit(limit)
    return list(await session.scalars(stmt))
