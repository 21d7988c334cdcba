"""Background loop: open tasks past their due time alert management, once each."""

from __future__ import annotations

import asyncio
import logging

from services.reconciliation.tasks import service
from shared.app import ServiceRuntime

log = logging.getLogger(__name__)


async def task_loop(runtime: ServiceRuntime) -> None:
    interval = float(getattr(runtime.settings, "task_poll_interval_s", 5.0))
    while True:
        try:
            async with runtime.sessionmaker() as session, session.begin():
                alerted = await service.alert_overdue(session, now=runtime.clock.now())
            if alerted:
                runtime.relay.wake()
                continue
        except asyncio.CancelledError:
            raise
        except Exception:  # database away: the tasks stay overdue and unalerted, next round
            log.warning("overdue task round failed", exc_info=True)
        await asyncio.sleep(interval)
