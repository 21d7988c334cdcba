"""Bind what was held for a return when its feed entry arrives, and refuse scans that waited past
the hold window (an escalation filed before its feed entry is emitted at once and waits in its
case, SOP E1, however long the feed takes). The state lives in PostgreSQL (`escalations.state`,
`held_scans`), so a restart loses nothing: the sweep simply runs again. Never commits."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.escalations import service as escalations
from services.intake.partners import service as partners
from services.intake.returns.repository import Owner
from shared.app import ServiceRuntime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bound:
    escalations_filed: int
    scans_emitted: int


@dataclass(frozen=True, slots=True)
class Expired:
    scans: int


async def bind_return(
    session: AsyncSession, *, return_id: str, owner: Owner, now: datetime, anything_held: bool
) -> Bound:
    """The feed entry of `return_id` is being stored (its lock held): file or refuse the
    escalations held for it, emit or refuse its held scans. The escalations go first, so a
    seller's own claim opens the case rather than a proactive one.

    `anything_held` is `holds.repository.ANYTHING_HELD_SQL`'s answer, asked under the return's
    lock by the statement that stored the entry. Whoever decides to hold for this return does
    so under that lock, which the caller holds: nothing can be held in between that answer and
    the commit."""
    if not anything_held:
        return Bound(0, 0)
    filed = await escalations.bind_pending(
        session, return_id=return_id, seller_id=owner.seller_id, now=now
    )
    emitted = await partners.bind_held(session, return_id=return_id, owner=owner, now=now)
    return Bound(filed, emitted)


async def expire(session: AsyncSession, *, now: datetime, hold_window_h: float) -> Expired:
    """Refuse scans held longer than the hold window (one batch)."""
    cutoff = now - timedelta(hours=hold_window_h)
    return Expired(await partners.expire_held(session, held_before=cutoff, now=now))


async def hold_sweep_loop(runtime: ServiceRuntime) -> None:
    """Background loop of intake: refuse expired holds every `hold_sweep_interval_s`. Replicas
    may all run it: rows are claimed with SKIP LOCKED."""
    interval = float(getattr(runtime.settings, "hold_sweep_interval_s", 60.0))
    window = float(getattr(runtime.settings, "hold_window_h", 72.0))
    while True:
        try:
            while True:
                async with runtime.sessionmaker() as session, session.begin():
                    expired = await expire(session, now=runtime.clock.now(), hold_window_h=window)
                if not expired.scans:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:  # database away: the rows wait for the next round
            log.warning("hold sweep failed", exc_info=True)
        await asyncio.sleep(interval)
