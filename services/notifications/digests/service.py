"""Lessons join the seller's open digest, due at the next digest hour. Turning a due digest into
a message is the messages room's (`messages.digest_flush`): digests sit below messages."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.digests import repository
from services.notifications.digests.lessons import Lesson
from services.notifications.settings import INDIA, NotificationsSettings


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
