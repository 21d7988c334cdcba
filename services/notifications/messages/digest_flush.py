"""A timer turns each due digest into one `policy_education` message."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.digests import repository
from services.notifications.messages.service import digest_draft, queue_draft
from services.notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.db import fetch_autocommitted

log = logging.getLogger(__name__)


async def flush_due(
    session: AsyncSession, *, settings: NotificationsSettings, now: datetime, limit: int = 100
) -> int:
    """Turn every due digest into a `policy_education` message; returns how many."""
    digests = await repository.claim_due(session, now=now, limit=limit)
    for digest in digests:
        items = await repository.items_of(session, digest.digest_id)
        if not items:
            # Every lesson was withdrawn (the closures they taught from were undone): nothing
            # to send, and the seller's next lesson opens a new digest.
            digest.flushed_at = now
            continue
        message_id = await queue_draft(
            session,
            draft=await digest_draft(session, digest, items, settings),
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
    # Sleeps until the next digest falls due, at most `digest_poll_interval_s` (a digest opened
    # meanwhile is due hours later, at the digest hour, so it never needs an earlier wake-up).
    # A round first asks when that is, one autocommitted statement; only a digest due now
    # opens the transaction that claims and flushes. Most rounds find none due.
    while True:
        sleep_s = settings.digest_poll_interval_s
        try:
            rows = await fetch_autocommitted(sessionmaker, repository.NEXT_FLUSH_AT)
            due: datetime | None = rows[0]["flush_at"] if rows else None
            if due is not None and due <= clock.now():
                async with sessionmaker() as session, session.begin():
                    await flush_due(session, settings=settings, now=clock.now())
                    due = await repository.next_flush_at(session)
            if due is not None:
                # Not below 0.1 s: a due digest another replica holds stays due until it commits.
                sleep_s = min(sleep_s, max(0.1, (due - clock.now()).total_seconds()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away; due digests wait for next round
            log.warning("digest flush round failed: %r", exc)
        await asyncio.sleep(sleep_s)
