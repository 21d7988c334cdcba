"""`POST /v1/labels`, `GET /v1/labels/precision`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status
from fastapi.responses import Response

from services.fraud.labels import repository
from services.fraud.labels.schemas import LabelIn, LabelOut, PrecisionOut
from services.fraud.labels.service import precision_of
from services.fraud.models import Label
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["fraud labels"])


@router.post(
    "/v1/labels",
    response_model=LabelOut,
    status_code=status.HTTP_201_CREATED,
    summary="Label an entity or an event as confirmed fraud or legitimate",
)
async def add_label(
    data: LabelIn,
    change: Change,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER),
) -> LabelOut | Response:
    async def run() -> LabelOut:
        label = Label(
            entity_type=data.entity_type,
            entity_id=data.entity_id,
            event_id=data.event_id,
            verdict=data.verdict,
            note=data.note,
            labelled_by=principal.client_id,
            labelled_at=datetime.now(UTC),
        )
        repository.add(change.session, label)
        await change.session.flush()
        return LabelOut.model_validate(label, from_attributes=True)

    return await change.once(run, status_code=201)


@router.get(
    "/v1/labels/precision",
    response_model=PrecisionOut,
    summary="Precision (and recall) of the HIGH band against analyst labels",
)
async def label_precision(
    session: DbSession,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE),
) -> PrecisionOut:
    return PrecisionOut(
        events=precision_of(await repository.event_verdicts(session)),
        entities=precision_of(await repository.entity_verdicts(session)),
    )
