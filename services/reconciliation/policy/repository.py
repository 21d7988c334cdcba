"""SQL of policy versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import PolicyVersion


async def all_versions(session: AsyncSession) -> list[PolicyVersion]:
    return list(await session.scalars(select(PolicyVersion).order_by(PolicyVersion.created_at)))


async def get(session: AsyncSession, version: str) -> PolicyVersion | None:
    return await session.get(PolicyVersion, version)
