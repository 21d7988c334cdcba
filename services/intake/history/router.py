"""`GET /v1/returns/{return_id}/events`: what intake knows about a return, in the order it
happened."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from services.intake.api_docs import PROBLEM_RESPONSES
from services.intake.history import service
from services.intake.history.schemas import ReturnHistory
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.events import Id
from shared.paging import Cursor, Limit, link_next
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["returns"], responses=PROBLEM_RESPONSES)


@router.get(
    "/v1/returns/{return_id}/events",
    response_model=ReturnHistory,
    summary="A return's canonical events, ordered by when they happened",
)
async def get_return_events(
    request: Request,
    response: Response,
    return_id: Annotated[Id, Path()],
    session: DbSession,
    limit: int = Limit(500, 1000),
    cursor: Cursor = None,
    principal: Principal = require(Role.OPS_AGENT, Role.OPS_MANAGER),
) -> ReturnHistory:
    out = await service.history(session, return_id=return_id, limit=limit, cursor=cursor)
    link_next(request, response, out.next)
    return out
