"""`POST /v1/escalations`: the seller portal (for its own seller) or ops agents (for any)."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse

from services.intake.escalations import service
from services.intake.escalations.schemas import EscalationIn, EscalationOut
from services.intake.models import IdempotencyKey
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import StoredResponse, claim

router = APIRouter(tags=["seller escalations"])


@router.post(
    "/v1/escalations",
    status_code=status.HTTP_201_CREATED,
    response_model=EscalationOut,
    summary="File a seller escalation about a return",
)
async def post_escalation(
    data: EscalationIn,
    request: Request,
    session: DbSession,
    principal: Principal = require(Role.SELLER_PORTAL, Role.OPS_AGENT, Role.OPS_MANAGER),
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> EscalationOut | JSONResponse:
    guard = None
    if idempotency_key is not None:
        guard = await claim(
            request.app.state.sessionmaker,
            IdempotencyKey,
            client_id=principal.client_id,
            key=idempotency_key,
            route="POST /v1/escalations",
            body=await request.body(),
        )
        if isinstance(guard, StoredResponse):
            return JSONResponse(guard.body, status_code=guard.status)
    try:
        out = await service.file_escalation(
            session, data=data, principal=principal, now=request.app.state.runtime.clock.now()
        )
    except Exception:
        if guard is not None:
            await guard.release(request.app.state.sessionmaker)
        raise
    if guard is not None:
        await guard.complete(session, 201, out.model_dump(mode="json"))
    return out
