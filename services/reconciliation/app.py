"""Reconciliation: the claim SOP as code — cases, liability, ledger, the review desk."""

from __future__ import annotations

from fastapi import FastAPI

from services.reconciliation.cases.handlers import handlers as case_handlers
from services.reconciliation.models import Inbox, Outbox
from services.reconciliation.settings import ReconciliationSettings
from shared.app import ConsumerSpec, create_service_app
from shared.events import FRAUD_ASSESSMENTS, INTAKE_RETURNS


def create_app(settings: ReconciliationSettings | None = None) -> FastAPI:
    return create_service_app(
        name="reconciliation",
        title="disputedesk reconciliation",
        description="Runs the claim SOP: cases, liability, ledger, review desk.",
        settings=settings or ReconciliationSettings(),
        outbox_model=Outbox,
        inbox_model=Inbox,
        consumers=[
            ConsumerSpec(
                "reconciliation", [INTAKE_RETURNS.name, FRAUD_ASSESSMENTS.name], case_handlers
            )
        ],
    )
