"""`POST /v1/returns`: the marketplace feed (role `marketplace`)."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.intake.returns import service
from services.intake.returns.schemas import ReturnAccepted, ReturnIn
from shared.auth import Principal, Role, require
from shared.db import DbSession

router = APIRouter(tags=["marketplace feed"])


@router.post(
    "/v1/returns",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnAccepted,
    summary="Record a return the marketplace accepted",
)
async def post_return(
    data: ReturnIn, session: DbSession, principal: Principal = require(Role.MARKETPLACE)
) -> ReturnAccepted:
    return await service.accept_return(session, data=data)
