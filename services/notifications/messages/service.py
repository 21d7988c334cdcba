"""Queue a message once per (case, template, version), and dispatch due messages.

Queueing happens in the consumer's transaction (so a redelivered case event queues nothing new);
sending happens in the dispatcher, which marks a message sent in the same transaction as its
`NotificationSent` outbox row.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.channels.base import Channel, DeliveryError, OutgoingMessage
from services.notifications.messages import repository
from services.notifications.messages.rendering import india_time, render
from services.notifications.models import Message, Outbox
from shared.events import CaseOpened, NotificationFailed, NotificationSent
from shared.outbox import enqueue

log = logging.getLogger(__name__)
SOURCE = "disputedesk/notifications"


async def queue_acknowledgement(session: AsyncSession, *, event: CaseOpened) -> bool:
    if not event.seller_email:
        log.info("case has no seller address; acknowledgement not queued",
                 extra={"case_id": event.case_id})
        return False
    context: dict[str, Any] = {
        "case_id": event.case_id,
        "return_id": event.return_id,
        "expected_decision_by": india_time(event.expected_decision_by or event.occurred_at),
    }
    rendered = render("acknowledgement", context)
    new_id = await repository.insert_once(
        session,
        {
            "message_id": uuid4(),
            "dedup_key": f"{event.case_id}:acknowledgement:{event.case_version}",
            "template": "acknowledgement",
            "case_id": event.case_id,
            "case_version": event.case_version,
            "return_id": event.return_id,
            "seller_id": event.seller_id,
            "recipient": event.seller_email,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": datetime.now(UTC),
        },
    )
    return new_id is not None


async def dispatch_due(
    sessionmaker: async_sessionmaker[AsyncSession], channel: Channel, *, limit: int = 50
) -> int:
    """Send every due message once; returns how many were attempted."""
    async with sessionmaker() as session, session.begin():
        now = datetime.now(UTC)
        messages = await repository.claim_due(session, now=now, limit=limit)
        for message in messages:
            await _attempt(session, channel, message)
    return len(messages)


async def _attempt(session: AsyncSession, channel: Channel, message: Message) -> None:
    message.attempts += 1
    try:
        await channel.send(
            OutgoingMessage(
                message.message_id, message.recipient, message.subject, message.body_text,
                message.body_html,
            )
        )
    except DeliveryError as exc:
        message.last_error = str(exc)
        # PLACEHOLDER retry policy: give up at once. The notifications issue adds the persisted
        # backoff schedule, suppression and throttling.
        message.status = "failed"
        enqueue(
            session,
            Outbox,
            NotificationFailed(
                message_id=message.message_id,
                subject_key=message.return_id or message.seller_id or str(message.message_id),
                case_id=message.case_id,
                return_id=message.return_id,
                seller_id=message.seller_id,
                template=message.template,
                case_version=message.case_version,
                attempts=message.attempts,
                error=str(exc),
                permanent=exc.permanent,
                failed_at=datetime.now(UTC),
            ),
            source=SOURCE,
        )
        return
    message.status = "sent"
    message.sent_at = datetime.now(UTC)
    enqueue(
        session,
        Outbox,
        NotificationSent(
            message_id=message.message_id,
            subject_key=message.return_id or message.seller_id or str(message.message_id),
            case_id=message.case_id,
            return_id=message.return_id,
            seller_id=message.seller_id,
            template=message.template,
            case_version=message.case_version,
            subject=message.subject,
            attempts=message.attempts,
            sent_at=message.sent_at,
        ),
        source=SOURCE,
    )


async def run_dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession], channel: Channel, *, poll_interval_s: float
) -> None:
    backoff = 0.5
    while True:
        try:
            attempted = await dispatch_due(sessionmaker, channel)
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("dispatcher round failed, retrying in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            continue
        if not attempted:
            await asyncio.sleep(poll_interval_s)
