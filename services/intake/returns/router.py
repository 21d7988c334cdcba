"""The marketplace feed (role `marketplace`): `POST /v1/returns` and `POST /v1/refunds`."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from services.intake.api_docs import PROBLEM_RESPONSES
from services.intake.connection_gate import GatedSession, connection_gate
from services.intake.partners.router import partner_directory
from services.intake.returns import service
from services.intake.returns.schemas import RefundAccepted, RefundIn, ReturnAccepted, ReturnIn
from shared.app import ServiceRuntime
from shared.auth import Principal, Role, require
from shared.db import request_session
from shared.idempotency import IdempotencyKeyHeader, idempotent, keyed_request
from shared.pooled import driver_connection
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
) -> ReturnAccepted | Response:
    runtime: ServiceRuntime = request.app.state.runtime
    now = runtime.clock.now()
    keyed = None
    if idempotency_key is not None:
        keyed = await keyed_request(request, principal, idempotency_key)
    # Gated after the caller's key, so a request refused there takes no slot. The common entry,
    # a new return nothing waits for under a new key (or none), is one autocommitted call: no
    # session, no BEGIN or COMMIT of the request's (`service.accept_new_return`).
    async with connection_gate(request), driver_connection(runtime.engine) as connection:
        await service.refuse_misspelt_partner(partner_directory(request), connection, data)
        accepted = await service.accept_new_return(
            connection, data=data, now=now, keyed=keyed, answer_status=status.HTTP_202_ACCEPTED
        )
    if accepted is not None:
        runtime.relay.wake()  # committed already: the call was its own transaction
        return accepted
    # A resend, a return something waits for, or a key used before: the request's
    # transaction, the key claimed first, as `GatedSession` gives it.
    async with connection_gate(request), request_session(request) as session:
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
