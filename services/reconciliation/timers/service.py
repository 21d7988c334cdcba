"""Fire due timers: each in its own transaction, case row locked first, then the timer row,
both with SKIP LOCKED so several replicas (or a busy consumer) never block one another."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reconciliation.cases import service as cases
from services.reconciliation.timers import repository
from shared.app import ServiceRuntime

log = logging.getLogger(__name__)


async def fire_due(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, limit: int = 100
) -> int:
    async with sessionmaker() as session:
        candidates = await repository.due(session, now=now, limit=limit)
    fired = 0
    for timer_id, case_id in candidates:
        try:
            async with sessionmaker() as session, session.begin():
                claimed = await repository.claim(
                    session, timer_id=timer_id, case_id=case_id, now=now
                )
                if claimed is None:
                    continue
                case, timer = claimed
                timer.fired_at = now
                if case.timer_kind == timer.kind:
                    case.timer_kind = None
                    case.timer_due_at = None
                await cases.on_timer(session, case, kind=timer.kind, now=now)
                fired += 1
        except Exception:  # this timer stays due and is retried on the next round
            log.exception("timer failed", extra={"timer_id": timer_id, "case_id": case_id})
    return fired


async def timer_loop(runtime: ServiceRuntime) -> None:
    """Background loop of the app: wake up every interval, fire what the clock says is due."""
    interval = float(getattr(runtime.settings, "timer_poll_interval_s", 1.0))
    batch = int(getattr(runtime.settings, "timer_batch_size", 100))
    while True:
        try:
            fired = await fire_due(runtime.sessionmaker, now=runtime.clock.now(), limit=batch)
            if fired:
                runtime.relay.wake()
                continue
        except asyncio.CancelledError:
            raise
        except Exception:  # database away: try again next round
            log.warning("timer round failed", exc_info=True)
        await asyncio.sleep(interval)
