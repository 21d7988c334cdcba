"""Lessons join the seller's open digest; a timer turns each due digest into one message."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.digests import repository
from services.notifications.messages.composing import Draft, Lesson, digest_context
from services.notifications.messages.rendering import INDIA
from services.notifications.settings import NotificationsSettings
from shared.clock import Clock

log = logging.getLogger(__name__)


def next_flush_time(now: datetime, hour_ist: int) -> datetime:
    """Today's digest hour in India time, or tomorrow's if it has passed."""
    local = now.astimezone(INDIA)
    today = datetime.combine(local.date(), time(hour_ist, 0), tzinfo=INDIA)
    return today if today > local else today + timedelta(days=1)


async def add_lesson(
    session: AsyncSession, *, lesson: Lesson, settings: NotificationsSettings, now: datetime
) -> bool:
    digest = await repository.open_digest(
        session,
        seller_id=lesson.seller_id,
        recipient=lesson.recipient,
        flush_at=next_flush_time(now, settings.digest_hour_ist),
    )
    return await repository.add_item(
        session,
        {
            "digest_id": digest.digest_id,
            "dedup_key": lesson.dedup_key,
            "case_id": lesson.case_id,
            "topic": lesson.topic,
            "context": lesson.context,
        },
    )


async def flush_due(
    session: AsyncSession, *, settings: NotificationsSettings, now: datetime, limit: int = 100
) -> int:
    """Turn every due digest into a `policy_education` message; returns how many."""
    from services.notifications.messages.service import queue_draft
    from services.notifications.sellers import service as sellers

    digests = await repository.claim_due(session, now=now, limit=limit)
    for digest in digests:
        items = await repository.items_of(session, digest.digest_id)
        lessons = [{"topic": i.topic, "case_id": i.case_id, **i.context} for i in items]
        case_ids = {i.case_id for i in items if i.case_id}
        message_id = await queue_draft(
            session,
            draft=Draft(
                template="policy_education",
                recipient=digest.recipient,
                dedup_key=f"digest:{digest.digest_id}",
                context=digest_context(digest.seller_id, lessons, settings),
                case_id=next(iter(case_ids)) if len(case_ids) == 1 else None,
                return_id=items[0].context.get("return_id") if len(items) == 1 else None,
                seller_id=digest.seller_id,
                subject_key=digest.seller_id,
                language=await sellers.language(session, digest.seller_id),
            ),
            settings=settings,
            now=now,
        )
        digest.flushed_at = now
        digest.message_id = message_id
    return len(digests)


async def run_digest_flusher(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    settings: NotificationsSettings,
    clock: Clock,
) -> None:
    while True:
        try:
            async with sessionmaker() as session, session.begin():
                await flush_due(session, settings=settings, now=clock.now())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away; due digests wait for next round
            log.warning("digest flush round failed: %r", exc)
        await asyncio.sleep(settings.digest_poll_interval_s)
