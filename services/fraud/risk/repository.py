"""SQL of entity risk and assessments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import literal, null, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.models import Assessment, EntityRisk, EntityRiskHistory, WatchlistEntry


@dataclass(frozen=True, slots=True)
class StoredRisk:
    score: float
    band: str


@dataclass(frozen=True, slots=True)
class Watch:
    entity_type: str
    entity_id: str
    source: str
    reason: str


async def risk_and_watch(
    session: AsyncSession, entities: Iterable[tuple[str, str]]
) -> tuple[dict[tuple[str, str], StoredRisk], list[Watch]]:
    """Stored risk and active watchlist entries of the entities, in one round trip."""
    keys = list(set(entities))
    if not keys:
        return {}, []
    risk_q = select(literal("risk").label("kind"), EntityRisk.entity_type, EntityRisk.entity_id,
                    EntityRisk.score, EntityRisk.band, null().label("source"),
                    null().label("reason")).where(
        tuple_(EntityRisk.entity_type, EntityRisk.entity_id).in_(keys))
    watch_q = select(literal("watch"), WatchlistEntry.entity_type, WatchlistEntry.entity_id,
                     null(), null(), WatchlistEntry.source, WatchlistEntry.reason).where(
        WatchlistEntry.active,
        tuple_(WatchlistEntry.entity_type, WatchlistEntry.entity_id).in_(keys))
    risks: dict[tuple[str, str], StoredRisk] = {}
    watches: list[Watch] = []
    result: Any = await session.execute(union_all(risk_q, watch_q))
    for kind, t, i, score, band, source, reason in result:
        if kind == "risk":
            risks[(t, i)] = StoredRisk(float(score), band)
        else:
            watches.append(Watch(t, i, source, reason))
    return risks, watches


async def upsert_risks(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = pg_insert(EntityRisk).values(rows)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["entity_type", "entity_id"],
        set_={"score": stmt.excluded.score, "band": stmt.excluded.band,
              "reasons": stmt.excluded.reasons, "as_of": stmt.excluded.as_of},
    ))


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
    """The event's current assessment: its latest revision."""
    return await session.scalar(
        select(Assessment).where(Assessment.subject_event_id == event_id)
        .order_by(Assessment.revision.desc()).limit(1)
    )
