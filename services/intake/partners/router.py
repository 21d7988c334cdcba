"""`POST /v1/webhooks/{partner_id}`: each partner authenticates by its own scheme."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from services.intake.partners import repository, service
from services.intake.partners.adapter import AuthenticationFailed, PayloadInvalid
from services.intake.partners.registry import ADAPTERS
from services.intake.partners.schemas import WebhookAccepted
from shared.db import DbSession
from shared.problems import Problem

router = APIRouter(tags=["partner webhooks"])


@router.post(
    "/v1/webhooks/{partner_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookAccepted,
    summary="Receive a partner's return-shipment update",
    responses={401: {"description": "Bad or stale signature"}, 404: {"description": "Unknown partner"},
               413: {"description": "Body over 1 MiB"}, 422: {"description": "Malformed payload"}},
)
async def receive_webhook(partner_id: str, request: Request, session: DbSession) -> WebhookAccepted:
    now = datetime.now(UTC)
    partner = await repository.get_partner(session, partner_id)
    if partner is None or not partner.active:
        raise Problem(404, "Not found", f"Unknown partner {partner_id!r}.")
    adapter = ADAPTERS.get(partner.scheme)
    if adapter is None:
        raise Problem(404, "Not found", f"Partner {partner_id!r} has no adapter.")
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    credentials = await repository.active_credentials(session, partner_id=partner_id, now=now)
    try:
        adapter.authenticate(
            headers=headers,
            body=body,
            credentials=credentials,
            now=now,
            tolerance_s=request.app.state.settings.signature_tolerance_s,
        )
    except AuthenticationFailed as exc:
        raise Problem(401, "Unauthorized", str(exc)) from exc
    try:
        result = await service.ingest(
            session, partner_id=partner_id, adapter=adapter, headers=headers, body=body,
            received_at=now,
        )
    except PayloadInvalid as exc:
        raise Problem(422, "Validation failed", str(exc), errors=exc.errors) from exc
    return WebhookAccepted(
        raw_ref=result.raw_ref, accepted=result.accepted, duplicates=result.duplicates,
        unmapped=result.unmapped,
    )
