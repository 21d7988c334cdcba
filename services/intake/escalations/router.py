"""Seller escalations: the seller portal (for its own seller only) and ops agents (for any
seller, after a call or an email)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from services.intake.api_docs import PROBLEM_RESPONSES
from services.intake.connection_gate import connection_gate
from services.intake.escalations import service
from services.intake.escalations.schemas import (
    AppealAccepted,
    AppealIn,
    EscalationIn,
    EscalationList,
    EscalationOut,
    EvidenceAccepted,
    EvidenceIn,
)
from shared.app import ServiceRuntime
from shared.auth import Principal, Role, require
from shared.db import DbSession, request_session
from shared.events import Id
from shared.idempotency import Change, IdempotencyKeyHeader, idempotent, keyed_request
from shared.paging import Cursor, Limit, link_next
from shared.pooled import driver_connection
from shared.service_route import ServiceRoute

router = APIRouter(
    route_class=ServiceRoute, tags=["seller escalations"], responses=PROBLEM_RESPONSES
)

EscalationId = Annotated[Id, Path()]
SELLER_SIDE = (Role.SELLER_PORTAL, Role.OPS_AGENT, Role.OPS_MANAGER)


def _filing_status(out: EscalationOut) -> int:
    return 202 if out.state == service.PENDING_RETURN else 201


@router.post(
    "/v1/escalations",
    status_code=status.HTTP_201_CREATED,
    response_model=EscalationOut,
    summary="File a seller escalation about a return",
    description="201 when filed. 202 (`state: pending_return`) when the marketplace feed has "
    "not announced the return yet: it is held, and filed once the feed names this seller as "
    "the return's seller (refused otherwise). A return of another seller answers 404, as an "
    "unknown id does.",
    responses={
        202: {"model": EscalationOut, "description": "Held until the feed announces the return"}
    },
)
async def post_escalation(
    data: EscalationIn,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
    principal: Principal = require(*SELLER_SIDE),
) -> EscalationOut | Response:
    runtime: ServiceRuntime = request.app.state.runtime
    now = runtime.clock.now()
    sealer = request.app.state.contact_sealer
    keyed = (
        None
        if idempotency_key is None
        else await keyed_request(request, principal, idempotency_key)
    )
    # The one call's rows and answer are built first, so no pooled connection waits on that.
    prepared = service.prepare_filing(
        data=data,
        principal=principal,
        now=now,
        sealer=sealer,
        keyed=keyed,
        status_of=_filing_status,
    )
    # Gated after the caller's key, so a request refused there takes no slot. The common
    # filing, on a return the feed named as this seller's under a new key (or none), is one
    # autocommitted call: the key's row, the filing and its answer, with no session, BEGIN or
    # COMMIT of the request's (`service.file_escalation_alone`).
    if prepared is not None:
        async with connection_gate(request), driver_connection(runtime.engine) as connection:
            filed = await service.file_escalation_alone(connection, prepared, keyed=keyed)
        if filed is not None:
            runtime.relay.wake()  # committed already: the call was its own transaction
            response.status_code = prepared.answer_status
            return filed
    # A filing held for the feed or refused, or a key used before: the request's transaction,
    # the key claimed first (its earlier answer, 422 or 409 as `idempotent` says). The rows
    # built for the call, which wrote nothing, are the ones filed.
    filing = None if prepared is None else prepared.filing
    async with connection_gate(request), request_session(request) as session:
        return await idempotent(
            request,
            session,
            principal=principal,
            key=idempotency_key,
            status_code=_filing_status,
            response=response,
            action=lambda: service.file_escalation(
                session, data=data, principal=principal, now=now, sealer=sealer, filing=filing
            ),
        )


@router.get(
    "/v1/escalations",
    response_model=EscalationList,
    summary="List escalations, newest first (the portal sees its own seller's only)",
)
async def list_escalations(
    request: Request,
    response: Response,
    session: DbSession,
    seller_id: Annotated[Id | None, Query()] = None,
    return_id: Annotated[Id | None, Query()] = None,
    limit: int = Limit(50, 200),
    cursor: Cursor = None,
    principal: Principal = require(*SELLER_SIDE),
) -> EscalationList:
    out = await service.list_escalations(
        session,
        principal=principal,
        seller_id=seller_id,
        return_id=return_id,
        limit=limit,
        cursor=cursor,
    )
    link_next(request, response, out.next)
    return out


@router.get(
    "/v1/escalations/{escalation_id}",
    response_model=EscalationOut,
    summary="One escalation (404 when it is not the caller's seller's)",
)
async def get_escalation(
    escalation_id: EscalationId, session: DbSession, principal: Principal = require(*SELLER_SIDE)
) -> EscalationOut:
    return await service.get_escalation(session, escalation_id=escalation_id, principal=principal)


@router.post(
    "/v1/escalations/{escalation_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceAccepted,
    summary="Add evidence (and/or the weight the seller received) to an escalation",
)
async def post_evidence(
    escalation_id: EscalationId,
    data: EvidenceIn,
    change: Change,
    principal: Principal = require(*SELLER_SIDE),
) -> EvidenceAccepted | Response:
    now = change.now()
    return await change.once(
        lambda: service.add_evidence(
            change.session, escalation_id=escalation_id, data=data, principal=principal, now=now
        ),
        status_code=201,
    )


@router.post(
    "/v1/escalations/{escalation_id}/appeal",
    status_code=status.HTTP_201_CREATED,
    response_model=AppealAccepted,
    summary="Appeal the decision on an escalation",
)
async def post_appeal(
    escalation_id: EscalationId,
    data: AppealIn,
    change: Change,
    principal: Principal = require(*SELLER_SIDE),
) -> AppealAccepted | Response:
    now = change.now()
    return await change.once(
        lambda: service.file_appeal(
            change.session, escalation_id=escalation_id, data=data, principal=principal, now=now
        ),
        status_code=201,
    )


@router.post(
    "/v1/returns/{return_id}/appeal",
    status_code=status.HTTP_201_CREATED,
    response_model=AppealAccepted,
    summary="Appeal the decision on a return (also a case the desk opened without a claim)",
    description="For the seller the marketplace feed names as the return's seller; another "
    "seller's return answers 404, as an unknown id does. Whether the appeal is heard is the "
    "case's to judge: one appeal per return, whichever route filed it, of a decision or "
    "rejection, within its 7 days (a late one is answered by email with the window's end); an "
    "appeal sent before anything is decided, or after the one appeal, changes nothing.",
)
async def post_return_appeal(
    return_id: Annotated[Id, Path()],
    data: AppealIn,
    change: Change,
    principal: Principal = require(*SELLER_SIDE),
) -> AppealAccepted | Response:
    now = change.now()
    return await change.once(
        lambda: service.file_return_appeal(
            change.session, return_id=return_id, data=data, principal=principal, now=now
        ),
        status_code=201,
    )
