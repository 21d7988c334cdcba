"""`GET /v1/assessments/{event_id}` and `GET /v1/risk/{entity_type}/{entity_id}`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.fraud.models import Alert
from services.fraud.risk import repository
from services.fraud.risk.schemas import AssessmentOut, EntityRiskOut, EntityType, RiskPoint
from services.fraud.watchlists import repository as watch_repo
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.lookups import EntityIdPath
from shared.problems import Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["fraud risk"])
READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)


@router.get(
    "/v1/assessments/{event_id}",
    response_model=AssessmentOut,
    summary="The current assessment of one scored event (by its CloudEvent id): its "
    "latest revision",
)
async def get_assessment(
    event_id: UUID, session: DbSession, principal: Principal = require(*READERS)
) -> AssessmentOut:
    row = await repository.assessment_by_event(session, event_id)
    if row is None:
        raise Problem(404, "Not found", f"No assessment for event {event_id}.")
    return AssessmentOut.model_validate(row, from_attributes=True)


@router.get(
    "/v1/risk/{entity_type}/{entity_id}",
    response_model=EntityRiskOut,
    summary="An entity's current risk, its reasons and its history",
)
async def get_entity_risk(
    entity_type: EntityType,
    entity_id: EntityIdPath,
    session: DbSession,
    history_limit: int = Query(50, ge=1, le=500),
    principal: Principal = require(*READERS),
) -> EntityRiskOut:
    current = (await repository.risks(session, [(entity_type, entity_id)])).get(
        (entity_type, entity_id)
    )
    history = await repository.history(session, entity_type, entity_id, history_limit)
    watched = await watch_repo.active_for(session, [(entity_type, entity_id)])
    open_alerts = int(
        await session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(
                Alert.entity_type == entity_type,
                Alert.entity_id == entity_id,
                Alert.status.in_(["open", "acknowledged"]),
            )
        )
        or 0
    )
    return EntityRiskOut(
        entity_type=entity_type,
        entity_id=entity_id,
        score=current.score if current else 0.0,
        band=current.band if current else "LOW",
        reasons=current.reasons if current else [],
        as_of=current.as_of if current else None,
        watchlisted=bool(watched),
        open_alerts=open_alerts,
        history=[RiskPoint.model_validate(h, from_attributes=True) for h in history],
    )
