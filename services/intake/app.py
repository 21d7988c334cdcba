"""Intake: the front door for partner webhooks, the marketplace feed and seller escalations."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.intake.admin.router import router as admin_router
from services.intake.escalations.router import router as escalations_router
from services.intake.feedback.router import router as feedback_router
from services.intake.history.router import router as history_router
from services.intake.holds.service import hold_sweep_loop
from services.intake.models import IdempotencyKey, Outbox
from services.intake.partners.router import router as webhooks_router
from services.intake.partners.secrets import PartnerSecrets, revoked_secret_retention
from services.intake.returns.router import router as returns_router
from services.intake.settings import IntakeSettings
from shared.app import create_service_app
from shared.clock import Clock
from shared.keys import PII_PUBLIC_KEY, load_key_list
from shared.pii import ContactSealer


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    # Both keys are read now, so a missing one stops the start with a message naming it
    # instead of failing the first webhook or escalation.
    partner_secrets = PartnerSecrets.from_environment()
    contact_sealer = ContactSealer.from_keys(
        load_key_list(PII_PUBLIC_KEY, purpose="intake seals seller addresses for notifications")
    )
    app = create_service_app(
        name="intake",
        title="disputedesk intake",
        description="Normalises partner webhooks, the marketplace feed and seller escalations "
        "into canonical events on `intake.returns.v1` and `intake.seller-feedback.v1`.",
        settings=settings,
        outbox_model=Outbox,
        idempotency_model=IdempotencyKey,
        routers=[
            webhooks_router,
            returns_router,
            history_router,
            escalations_router,
            feedback_router,
            admin_router,
        ],
        background=[hold_sweep_loop],
        own_retentions=[revoked_secret_retention(timedelta(hours=settings.revoked_secret_grace_h))],
        clock=clock,
    )
    app.state.partner_secrets = partner_secrets
    app.state.contact_sealer = contact_sealer
    return app
