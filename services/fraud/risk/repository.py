"""SQL of entity risk and assessments."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.models import Assessment, EntityRisk, EntityRiskHistory


async def risks(
    session: AsyncSession, entities: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], EntityRisk]:
    keys = list(set(entities))
    if not keys:
        return {}
    rows = await session.scalars(
        select(EntityRisk).where(tuple_(EntityRisk.entity_type, EntityRisk.entity_id).in_(keys))
    )
    return {(r.entity_type, r.entity_id): r for r in rows}


async def history(
    session: AsyncSession, entity_type: str, entity_id: str, limit: int
) -> list[EntityRiskHistory]:
    return list((await session.scalars(
        select(EntityRiskHistory)
        .where(EntityRiskHistory.entity_type == entity_type,
               EntityRiskHistory.entity_id == entity_id)
        .order_by(EntityRiskHistory.id.desc()).limit(limit)
    )).all())


async def assessment_by_event(session: AsyncSession, event_id: UUID) -> Assessment | None:
    return await session.scalar(select(Assessment).where(Assessment.subject_event_id == event_id))
