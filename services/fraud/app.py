"""Fraud: scores every event and watches the network for abuse and pilferage."""

from __future__ import annotations

from fastapi import FastAPI

from services.fraud.models import Inbox, Outbox
from services.fraud.scoring.handlers import handlers as scoring_handlers
from services.fraud.settings import FraudSettings
from shared.app import ConsumerSpec, create_service_app
from shared.events import INTAKE_RETURNS


def create_app(settings: FraudSettings | None = None) -> FastAPI:
    return create_service_app(
        name="fraud",
        title="disputedesk fraud",
        description="Scores every intake event and case decision, with reasons.",
        settings=settings or FraudSettings(),
        outbox_model=Outbox,
        inbox_model=Inbox,
        consumers=[ConsumerSpec("fraud", [INTAKE_RETURNS.name], scoring_handlers)],
    )
