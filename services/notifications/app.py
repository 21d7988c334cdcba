"""Notifications: writes to sellers and management by email, exactly once per message."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.channels.smtp import SmtpChannel
from services.notifications.messages.handlers import handlers as message_handlers
from services.notifications.messages.service import run_dispatcher
from services.notifications.models import Inbox, Outbox
from services.notifications.settings import NotificationsSettings
from shared.app import ConsumerSpec, ServiceRuntime, create_service_app
from shared.events import FRAUD_ALERTS, INTAKE_SELLER_FEEDBACK, RECONCILIATION_CASES


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    channel = SmtpChannel(settings)

    async def dispatcher(runtime: ServiceRuntime) -> None:
        await run_dispatcher(
            runtime.sessionmaker, channel, poll_interval_s=settings.dispatch_poll_interval_s
        )

    return create_service_app(
        name="notifications",
        title="disputedesk notifications",
        description="Seller and management email: acknowledgements, evidence requests, "
        "decisions, alerts.",
        settings=settings,
        outbox_model=Outbox,
        inbox_model=Inbox,
        consumers=[
            ConsumerSpec(
                "notifications",
                [RECONCILIATION_CASES.name, FRAUD_ALERTS.name, INTAKE_SELLER_FEEDBACK.name],
                message_handlers,
            )
        ],
        background=[dispatcher],
    )
