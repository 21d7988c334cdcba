"""`POST /v1/webhooks/{partner_id}`: each partner authenticates by its own scheme."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from services.intake import metrics
from services.intake.api_docs import PROBLEM_RESPONSES, RATE_LIMITED
from services.intake.connection_gate import connection_gate
from services.intake.partners import service
from services.intake.partners.adapter import AuthenticationFailed, PayloadInvalid
from services.intake.partners.batching import owned_scan_statements
from services.intake.partners.directory import PartnerDirectory
from services.intake.partners.registry import ADAPTERS
from services.intake.partners.route import PartnerWebhookRoute
from services.intake.partners.schemas import WebhookAccepted
from shared.app import ServiceRuntime
from shared.db import request_session
from shared.lookups import IdPath
from shared.pooled import driver_connection
from shared.problems import Problem, problem_response
from shared.rate_limit import Limit, RateLimiter, RateLimitExceeded
from shared.wakeups import PARTNERS_CHANNEL

# Served by a handler of its own, not FastAPI's generic one (route.py says what it does).
router = APIRouter(route_class=PartnerWebhookRoute, tags=["partner webhooks"])

PartnerId = IdPath


def partner_directory(request: Request) -> PartnerDirectory:
    runtime: ServiceRuntime = request.app.state.runtime
    directory = runtime.extras.get("partner_directory")
    if directory is None:
        directory = runtime.extras["partner_directory"] = PartnerDirectory(
            request.app.state.partner_secrets
        )
        if runtime.wakeups is not None:
            # Any replica's change to the registry reaches this one as it commits.
            wakeups = runtime.wakeups
            wakeups.on(PARTNERS_CHANNEL, directory.watch(lambda: wakeups.connected.is_set()))
    assert isinstance(directory, PartnerDirectory)
    return directory


@router.post(
    "/v1/webhooks/{partner_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookAccepted,
    summary="Receive a partner's return-shipment update",
    description="The body is the partner's own format (see docs/partners.md); it is archived byte "
    "for byte. Redeliveries are acknowledged and emit nothing new.",
    responses={**PROBLEM_RESPONSES, **RATE_LIMITED},
)
async def receive_webhook(
    partner_id: PartnerId, request: Request
) -> WebhookAccepted | JSONResponse:
    runtime: ServiceRuntime = request.app.state.runtime
    now = runtime.clock.now()
    directory = partner_directory(request)
    partner = directory.cached(partner_id)
    if partner is None:
        async with runtime.sessionmaker() as session:
            partner = await directory.get(session, partner_id)
    adapter = ADAPTERS.get(partner.scheme) if partner is not None and partner.active else None
    if partner is None or adapter is None:
        # The label is not the path segment: callers choose it, and labels must stay bounded.
        metrics.WEBHOOK_REQUESTS.labels("unknown", "unknown_partner").inc()
        raise Problem(404, "Not found", "Unknown partner.")
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    credentials = partner.credentials_at(now)
    try:
        adapter.authenticate(
            headers=headers,
            body=body,
            credentials=credentials,
            now=now,
            tolerance_s=request.app.state.settings.signature_tolerance_s,
        )
    except AuthenticationFailed as exc:
        metrics.WEBHOOK_REQUESTS.labels(partner_id, "unauthorized").inc()
        raise Problem(401, "Unauthorized", str(exc)) from exc
    # Limited after authentication, so that anonymous traffic cannot use up a partner's quota;
    # one bucket per partner shared by every replica, a burst of one second's worth, spent from
    # tokens this process leases from it.
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        rate = float(max(partner.rate_limit_per_s, 1))
        try:
            await limiter.spend(
                f"partner:{partner_id}",
                Limit(rate, rate),
                kind="partner",
                lease_s=request.app.state.settings.partner_rate_limit_lease_s,
            )
        except RateLimitExceeded as exc:
            metrics.WEBHOOK_REQUESTS.labels(partner_id, "rate_limited").inc()
            raise Problem(
                429,
                "Too many requests",
                f"Over {partner.rate_limit_per_s} requests per second; "
                f"retry in {exc.retry_after_s} s.",
                headers={"Retry-After": str(exc.retry_after_s)},
            ) from exc
    try:
        delivery = service.parse(
            partner_id=partner_id, adapter=adapter, headers=headers, body=body, received_at=now
        )
        # Gated by the statements' sender, which holds one slot for the webhooks together.
        result = await service.ingest_owned(owned_scan_statements(request), delivery)
        if result is not None:
            if result.accepted:
                runtime.relay.wake()  # committed already: the statement was its own transaction
        elif delivery.built is not None:
            # Not owned: a scan ahead of its return's feed entry, most often, held in one call.
            async with connection_gate(request), driver_connection(runtime.engine) as connection:
                result = await service.ingest_held(connection, delivery)
            if result is not None and result.accepted:
                runtime.relay.wake()  # committed already: the call was its own transaction
        if result is None:
            # A refusal of the canonical contract here (for a scan the common path did not build:
            # a type only the partner's added mappings give, a batch repeating an event) rolls
            # this transaction back before it has written anything.
            async with connection_gate(request), request_session(request) as session:
                result = await service.ingest(session, delivery)
    except PayloadInvalid as exc:
        # Parsing fails before anything is written, so only the archive row commits with
        # this answer: the partner's mistake stays on record, and no event half-exists.
        async with connection_gate(request), request_session(request) as session:
            raw_ref = await service.archive_invalid(
                session,
                partner_id=partner_id,
                adapter=adapter,
                headers=headers,
                body=body,
                received_at=now,
                errors=exc.errors,
            )
        metrics.WEBHOOK_REQUESTS.labels(partner_id, "invalid").inc()
        fields = ", ".join(e["field"] for e in exc.errors[:10])
        return problem_response(
            request,
            422,
            "Validation failed",
            f"Invalid field(s): {fields}",
            errors=exc.errors[:100],
            raw_ref=raw_ref,
        )
    metrics.WEBHOOK_REQUESTS.labels(partner_id, result.verdict).inc()
    return WebhookAccepted(
        raw_ref=result.raw_ref,
        accepted=result.accepted,
        duplicates=result.duplicates,
        unmapped=result.unmapped,
        held=len(result.held),
        refused=len(result.refused),
    )
