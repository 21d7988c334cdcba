"""`GET /v1/alerts`, `POST /v1/alerts/{id}/acknowledge`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.fraud.alerts import repository
from services.fraud.alerts.schemas import AcknowledgeIn, AlertOut, AlertPage
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.lookups import EntityIdQuery, FindingPatternQuery
from shared.paging import Cursor, Limit, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["fraud alerts"])


@router.get("/v1/alerts", response_model=AlertPage, summary="Network alerts, newest first")
async def list_alerts(
    request: Request,
    response: Response,
    session: DbSession,
    status: Literal["open", "acknowledged", "closed"] | None = None,
    pattern: FindingPatternQuery = None,
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"] | None = None,
    entity_id: EntityIdQuery = None,
    limit: int = Limit(50, 500),
    cursor: Cursor = None,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE),
) -> AlertPage:
    rows = await repository.list_alerts(
        session,
        status=status,
        pattern=pattern,
        entity_type=entity_type,
        entity_id=entity_id,
        limit=limit + 1,
        after=paging.decode_cursor(cursor, (datetime, UUID)) if cursor is not None else None,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r.raised_at, r.alert_id))
    link_next(request, response, next_cursor)
    return AlertPage(
        items=[AlertOut.model_validate(r, from_attributes=True) for r in items], next=next_cursor
    )


@router.post(
    "/v1/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Acknowledge (or close) an alert",
)
async def acknowledge_alert(
    alert_id: UUID,
    data: AcknowledgeIn,
    change: Change,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER),
) -> AlertOut | Response:
    async def run() -> AlertOut:
        alert = await repository.get_for_update(change.session, alert_id)
        if alert is None:
            raise Problem(404, "Not found", f"No alert {alert_id}.")
        if alert.status == "closed":
            raise Problem(
                409,
                "Conflict",
                "The alert is closed already.",
                errors=[{"field": "path.alert_id", "message": "closed already"}],
            )
        now = datetime.now(UTC)
        if data.close:
            repository.close(alert, at=now)
            if alert.acknowledged_by is None:
                repository.acknowledge(alert, by=principal.client_id, at=now)
                alert.status = "closed"
        else:
            repository.acknowledge(alert, by=principal.client_id, at=now)
        await change.session.flush()
        return AlertOut.model_validate(alert, from_attributes=True)

    return await change.once(run)
