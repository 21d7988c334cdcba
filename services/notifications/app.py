"""Notifications: writes to sellers and management by email, exactly once per message."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.notifications.catalogue.router import router as templates_router
from services.notifications.channels.base import Channel
from services.notifications.channels.smtp import SmtpChannel
from services.notifications.delivery.service import Dispatcher, run_dispatcher
from services.notifications.messages.digest_flush import run_digest_flusher
from services.notifications.messages.handlers import build_handlers
from services.notifications.messages.router import router as messages_router
from services.notifications.models import IdempotencyKey, Inbox, Outbox
from services.notifications.replies.listener import run_listener
from services.notifications.replies.router import router as replies_router
from services.notifications.sellers.router import router as sellers_router
from services.notifications.settings import NotificationsSettings
from services.notifications.suppressions.router import router as suppressions_router
from shared.app import ConsumerSpec, ServiceRuntime, create_service_app
from shared.clock import Clock, SystemClock
from shared.events import (
    FRAUD_ALERTS,
    INTAKE_SELLER_FEEDBACK,
    RECONCILIATION_CASES,
    RECONCILIATION_PARTNER_STATEMENTS,
)
from shared.keys import PII_PRIVATE_KEYS, load_key_list
from shared.pii import ContactOpener
from shared.wakeups import MESSAGES_CHANNEL


def create_app(
    settings: NotificationsSettings | None = None,
    *,
    clock: Clock | None = None,
    channel: Channel | None = None,
) -> FastAPI:
    settings = settings or NotificationsSettings()
    clock = clock or SystemClock()
    # Read now, so a missing key stops the start with a message naming it (shared/keys.py).
    opener = ContactOpener(
        load_key_list(PII_PRIVATE_KEYS, purpose="notifications opens sealed seller addresses")
    )
    channel = channel or SmtpChannel(settings)

    async def dispatcher(runtime: ServiceRuntime) -> None:
        loop = Dispatcher(
            runtime.sessionmaker,
            channel,
            settings,
            runtime.clock,
            on_recorded=runtime.relay.wake,
        )
        runtime.extras["dispatcher"] = loop
        # Claims skip each other's rows (SKIP LOCKED), so workers (and replicas) never send the
        # same message. A process's workers take turns to wait and claim, on one event: the
        # one waiting sleeps until the next due time or the messages table's NOTIFY.
        wakeups = runtime.wakeups
        wakeup = wakeups.event(MESSAGES_CHANNEL) if wakeups is not None else None
        try:
            await asyncio.gather(
                *(
                    run_dispatcher(
                        loop, poll_interval_s=settings.dispatch_poll_interval_s, wakeup=wakeup
                    )
                    for _ in range(max(1, settings.dispatch_workers))
                )
            )
        finally:
            # The connections kept between rounds say QUIT as the service stops.
            await channel.close()

    async def digest_flusher(runtime: ServiceRuntime) -> None:
        await run_digest_flusher(runtime.sessionmaker, settings=settings, clock=runtime.clock)

    async def reply_listener(runtime: ServiceRuntime) -> None:
        await run_listener(runtime, settings)

    background = [dispatcher, digest_flusher]
    if settings.inbound_smtp_port:
        background.append(reply_listener)

    consumers = []
    if settings.consumer_enabled:
        consumers.append(
            ConsumerSpec(
                settings.consumer_group,
                [
                    RECONCILIATION_CASES.name,
                    RECONCILIATION_PARTNER_STATEMENTS.name,
                    FRAUD_ALERTS.name,
                    INTAKE_SELLER_FEEDBACK.name,
                ],
                build_handlers(settings, clock, opener),
            )
        )
    return create_service_app(
        name="notifications",
        title="disputedesk notifications",
        description="Seller and management email: acknowledgements, evidence requests, "
        "decisions, escalation updates, appeal outcomes, policy education, outreach, alerts.",
        settings=settings,
        outbox_model=Outbox,
        inbox_model=Inbox,
        idempotency_model=IdempotencyKey,
        consumers=consumers,
        routers=[
            messages_router,
            templates_router,
            suppressions_router,
            sellers_router,
            replies_router,
        ],
        background=background,
        clock=clock,
    )
