"""`GET /v1/alerts`, `POST /v1/alerts/{id}/acknowledge`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.fraud.alerts import repository
from services.fraud.alerts.schemas import AcknowledgeIn, AlertOut, AlertPage
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import IdempotencyKeyHeader, idempotent
from shared.problems import Problem
from shared.validation import Offset

router = APIRouter(tags=["fraud alerts"])


@router.get("/v1/alerts", response_model=AlertPage, summary="Network alerts, newest first")
async def list_alerts(
    session: DbSession,
    status: Literal["open", "acknowledged", "closed"] | None = None,
    pattern: str | None = Query(None, max_length=40),
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"] | None = None,
    entity_id: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
    offset: Annotated[Offset, Query()] = 0,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE),
) -> AlertPage:
    rows = await repository.list_alerts(
        session,
        status=status,
        pattern=pattern,
        entity_type=entity_type,
        entity_id=entity_id,
        limit=limit,
        offset=offset,
    )
    return AlertPage(
        items=[AlertOut.model_validate(r, from_attributes=True) for r in rows],
        limit=limit,
        offset=offset,
    )


@router.post(
    "/v1/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Acknowledge (or close) an alert",
)
async def acknowledge_alert(
    alert_id: UUID,
    data: AcknowledgeIn,
    request: Request,
    session: DbSession,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER),
    idempotency_key: IdempotencyKeyHeader = None,
) -> AlertOut | Response:
    async def run() -> AlertOut:
        alert = await repository.get_for_update(session, alert_id)
        if alert is None:
            raise Problem(404, "Not found", f"No alert {alert_id}.")
        if alert.status == "closed":
            raise Problem(409, "Conflict", "The alert is closed already.")
        now = datetime.now(UTC)
        if data.close:
            repository.close(alert, at=now)
            if alert.acknowledged_by is None:
                repository.acknowledge(alert, by=principal.client_id, at=now)
                alert.status = "closed"
        else:
            repository.acknowledge(alert, by=principal.client_id, at=now)
        await session.flush()
        return AlertOut.model_validate(alert, from_attributes=True)

    return await idempotent(request, session, principal=principal, key=idempotency_key, action=run)
