"""SQL of policy versions, their change log, and the finished cases a what-if judges again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case, PolicyChange, PolicyVersion
from shared.events import CaseState

FINISHED = (CaseState.DECIDED, CaseState.REJECTED, CaseState.APPEALED, CaseState.CLOSED)


async def all_versions(session: AsyncSession) -> list[PolicyVersion]:
    return list(await session.scalars(select(PolicyVersion).order_by(PolicyVersion.created_at)))


async def get(session: AsyncSession, version: str) -> PolicyVersion | None:
    return await session.get(PolicyVersion, version)


async def lock(session: AsyncSession, version: str) -> PolicyVersion | None:
    return await session.scalar(
        select(PolicyVersion).where(PolicyVersion.version == version).with_for_update()
    )


async def in_force_version(session: AsyncSession, at: datetime) -> str | None:
    """The adopted version with the latest effective time at or before `at` (NULL: always)."""
    return await session.scalar(
        select(PolicyVersion.version)
        .where(
            PolicyVersion.status == "ACTIVE",
            or_(PolicyVersion.effective_at.is_(None), PolicyVersion.effective_at <= at),
        )
        .order_by(PolicyVersion.effective_at.desc().nulls_last(), PolicyVersion.created_at.desc())
        .limit(1)
    )


async def active_versions(session: AsyncSession) -> list[tuple[str, datetime | None, datetime]]:
    """Every adopted version as (version, effective_at, created_at): a handful of rows, which
    `in_force_version`'s choice can then be made from for any time."""
    rows = await session.execute(
        select(PolicyVersion.version, PolicyVersion.effective_at, PolicyVersion.created_at).where(
            PolicyVersion.status == "ACTIVE"
        )
    )
    return [(v, e, c) for v, e, c in rows.all()]


async def definition_of(session: AsyncSession, version: str) -> dict[str, Any] | None:
    return await session.scalar(
        select(PolicyVersion.definition).where(PolicyVersion.version == version)
    )


def add(
    session: AsyncSession, *, version: str, definition: dict[str, Any], based_on: str
) -> PolicyVersion:
    row = PolicyVersion(version=version, status="DRAFT", definition=definition, based_on=based_on)
    session.add(row)
    return row


def log_change(
    session: AsyncSession,
    *,
    version: str,
    action: str,
    actor: str,
    reason: str,
    diff: list[dict[str, Any]],
    at: datetime,
    effective_at: datetime | None = None,
) -> None:
    session.add(
        PolicyChange(
            version=version,
            action=action,
            actor=actor,
            reason=reason,
            diff=diff,
            at=at,
            effective_at=effective_at,
        )
    )


# The change-log actions that write a version's content or put it forward: whoever took one of
# them is an author of what an approval would adopt.
AUTHORING = ("DRAFTED", "PROPOSED")


async def authors(session: AsyncSession, version: str) -> set[str]:
    """Who drafted or proposed the version, from its change log."""
    rows = await session.scalars(
        select(PolicyChange.actor).where(
            PolicyChange.version == version, PolicyChange.action.in_(AUTHORING)
        )
    )
    return set(rows)


async def changes(session: AsyncSession, version: str | None = None) -> list[PolicyChange]:
    query = select(PolicyChange).order_by(PolicyChange.id)
    if version is not None:
        query = query.where(PolicyChange.version == version)
    return list(await session.scalars(query))


async def decided_cases(
    session: AsyncSession, *, since: datetime | None, until: datetime | None, limit: int
) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
    """(case_id, origin, decision record) of finished cases decided in [since, until), oldest
    first, streamed so a year of cases never sits in memory at once."""
    query = (
        select(Case.case_id, Case.origin, Case.decision)
        .where(Case.state.in_([s.value for s in FINISHED]), Case.decision.is_not(None))
        .order_by(Case.decided_at, Case.case_id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(Case.decided_at >= since)
    if until is not None:
        query = query.where(Case.decided_at < until)
    result = await session.stream(query.execution_options(yield_per=500))
    async for case_id, origin, decision in result:
        yield case_id, origin, decision
