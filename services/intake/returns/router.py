"""The marketplace feed (role `marketplace`): `POST /v1/returns` and `POST /v1/refunds`."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from services.intake.api_docs import PROBLEM_RESPONSES
from services.intake.connection_gate import GatedSession
from services.intake.returns import service
from services.intake.returns.schemas import RefundAccepted, RefundIn, ReturnAccepted, ReturnIn
from shared.auth import Principal, Role, require
from shared.idempotency import IdempotencyKeyHeader, idempotent
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["marketplace feed"], responses=PROBLEM_RESPONSES)


@router.post(
    "/v1/returns",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnAccepted,
    summary="Record a return the marketplace accepted",
    description="Once per return id: a resend with the same values answers `duplicate: true`; "
    "a resend with other values answers 409 naming each field that differs.",
)
async def post_return(
    data: ReturnIn,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
    principal: Principal = require(Role.MARKETPLACE),
    *,
    session: GatedSession,  # after the caller's key: a request refused there takes no slot
) -> ReturnAccepted | Response:
    now = request.app.state.runtime.clock.now()
    return await idempotent(
        request,
        session,
        principal=principal,
        key=idempotency_key,
        status_code=202,
        action=lambda: service.accept_return(session, data=data, now=now),
    )


@router.post(
    "/v1/refunds",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RefundAccepted,
    summary="Record a refund the marketplace issued for a return",
    description="Once per refund id: a resend with the same values answers `duplicate: true`; "
    "a resend with other values answers 409 naming each field that differs.",
)
async def post_refund(
    data: RefundIn,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
    principal: Principal = require(Role.MARKETPLACE),
    *,
    session: GatedSession,  # after the caller's key: a request refused there takes no slot
) -> RefundAccepted | Response:
    now = request.app.state.runtime.clock.now()
    return await idempotent(
        request,
        session,
        principal=principal,
        key=idempotency_key,
        status_code=202,
        action=lambda: service.accept_refund(session, data=data, now=now),
    )
