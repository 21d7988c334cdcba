"""An event its handler says it would do nothing with (`EventHandlers.on(..., acts_on=...)`)
is skipped after validation like a type without a handler: no inbox row, and a poll of only
such events opens no transaction at all; its offset moves on with the poll's."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition
from sqlalchemy import insert, text

from shared.events import ReturnInitiated
from shared.kafka.consumer import EventHandlers, HandlerContext
from tests.conftest import Harness
from tests.integration.test_consumer_batches import (
    TOPIC,
    Effect,
    _effects,
    _record,
    _runner,
)
from tests.support.factories import return_initiated


async def test_an_event_its_handler_would_not_act_on_costs_no_transaction(
    harness: Harness,
) -> None:
    handlers = EventHandlers()

    @handlers.on(ReturnInitiated, acts_on=lambda e: e.return_id.startswith("RET-ACT"))
    async def write(event: ReturnInitiated, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))

    runner, engine = await _runner(harness, handlers)
    opened: list[int] = []
    sessionmaker = runner.sessionmaker

    def counting() -> Any:
        opened.append(1)
        return sessionmaker()

    runner.sessionmaker = counting  # type: ignore[assignment]
    try:
        acting, idle = return_initiated("RET-ACT-1"), return_initiated("RET-IDLE-1")
        tp = TopicPartition(TOPIC, 0)
        await runner._handle_poll({tp: [_record(idle, 0), _record(acting, 1)]})
        assert await _effects(engine) == ["RET-ACT-1"]
        async with engine.connect() as conn:
            inbox = (await conn.execute(text("SELECT ce_id FROM batch_inbox"))).scalars().all()
        assert [str(i) for i in inbox] == [str(acting.id)]
        assert len(opened) == 1

        # A poll of idle events only: no transaction, the offsets still move on.
        await runner._handle_poll({tp: [_record(return_initiated("RET-IDLE-2"), 2)]})
        assert len(opened) == 1
        assert runner._pending[tp] == 3
    finally:
        await engine.dispose()
