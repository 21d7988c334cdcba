"""Fraud: scores every event and watches the network for abuse and pilferage."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from services.fraud.alerts.router import router as alerts_router
from services.fraud.labels.router import router as labels_router
from services.fraud.models import IdempotencyKey, Inbox, Outbox
from services.fraud.risk.router import router as risk_router
from services.fraud.scoring.base import counted_time, fact_time
from services.fraud.scoring.consumer import ReadAheadRunner
from services.fraud.scoring.handlers import handlers as scoring_handlers
from services.fraud.settings import FraudSettings
from services.fraud.watchlists.router import router as watchlist_router
from shared.app import ConsumerSpec, create_service_app
from shared.clock import Clock
from shared.events import INTAKE_RETURNS, RECONCILIATION_CASES


def create_app(settings: FraudSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or FraudSettings()
    return create_service_app(
        name="fraud",
        title="disputedesk fraud",
        description="Scores every intake event and case decision, with reasons; watches the "
        "network for abuse, pilferage and collusion.",
        settings=settings,
        outbox_model=Outbox,
        inbox_model=Inbox,
        idempotency_model=IdempotencyKey,
        consumers=[
            ConsumerSpec(
                settings.consumer_group,
                [INTAKE_RETURNS.name, RECONCILIATION_CASES.name],
                scoring_handlers,
                runner=partial(
                    ReadAheadRunner,
                    chunk_size=settings.consumer_chunk_size,
                    read_ahead=settings.consumer_read_ahead,
                    overtake=(
                        timedelta(seconds=settings.consumer_expedite_overtake_s)
                        if settings.consumer_expedite_overtake_s > 0
                        else None
                    ),
                    # A fact's own time (a case event's: when reconciliation stamped it).
                    event_time=fact_time,
                    # A partition's mark: how far its facts are counted in the time they are
                    # counted in (a claim or evidence stamped on arrival tells nothing of it).
                    mark_time=counted_time,
                ),
            )
        ],
        routers=[risk_router, alerts_router, watchlist_router, labels_router],
        clock=clock,
    )
