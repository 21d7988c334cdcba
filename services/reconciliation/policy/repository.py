"""SQL of policy versions, and the finished cases a what-if judges again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case, PolicyVersion
from shared.events import CaseState

FINISHED = (CaseState.DECIDED, CaseState.REJECTED, CaseState.APPEALED, CaseState.CLOSED)


async def all_versions(session: AsyncSession) -> list[PolicyVersion]:
    return list(await session.scalars(select(PolicyVersion).order_by(PolicyVersion.created_at)))


async def get(session: AsyncSession, version: str) -> PolicyVersion | None:
    return await session.get(PolicyVersion, version)


async def active(session: AsyncSession) -> PolicyVersion | None:
    return await session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.status == "ACTIVE")
        .order_by(PolicyVersion.adopted_at.desc())
        .limit(1)
    )


def add(session: AsyncSession, *, version: str, definition: dict[str, Any]) -> PolicyVersion:
    row = PolicyVersion(version=version, status="DRAFT", definition=definition)
    session.add(row)
    return row


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
