"""Background loop: open tasks past their due time alert management, once each."""

from __future__ import annotations

from services.reconciliation.tasks import repository, service
from shared.app import ServiceRuntime
from shared.wakeups import TASKS_CHANNEL


async def task_loop(runtime: ServiceRuntime) -> None:
    """Alert what is overdue, then sleep until the next open task falls due, or until a task is
    opened or moved (the table's NOTIFY), at most `task_poll_interval_s`."""

    async def alert() -> bool:
        async with runtime.sessionmaker() as session, session.begin():
            alerted = await service.alert_overdue(session, now=runtime.clock.now())
        if alerted:
            runtime.relay.wake()
        return bool(alerted)

    await runtime.run_when_due(
        alert,
        repository.next_overdue_at,
        channel=TASKS_CHANNEL,
        at_most_s=float(getattr(runtime.settings, "task_poll_interval_s", 30.0)),
        what="overdue task",
    )
