"""`POST /v1/seller-feedback`: the seller portal (own seller), ops roles and the marketplace."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from services.intake.api_docs import PROBLEM_RESPONSES
from services.intake.feedback import service
from services.intake.feedback.schemas import FeedbackAccepted, FeedbackIn
from shared.auth import Principal, Role, require
from shared.idempotency import Change
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["seller feedback"], responses=PROBLEM_RESPONSES)


@router.post(
    "/v1/seller-feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackAccepted,
    summary="Record a seller's rating and comments about the desk",
)
async def post_feedback(
    data: FeedbackIn,
    change: Change,
    principal: Principal = require(
        Role.SELLER_PORTAL, Role.OPS_AGENT, Role.OPS_MANAGER, Role.MARKETPLACE
    ),
) -> FeedbackAccepted | Response:
    now = change.now()
    return await change.once(
        lambda: service.receive_feedback(
            change.session,
            data=data,
            principal=principal,
            now=now,
            sealer=change.request.app.state.contact_sealer,
        ),
        status_code=201,
    )
