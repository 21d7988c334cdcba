"""The consumer runner's per-batch work on the real PostgreSQL: the inbox claim is one statement
whose text does not grow with the batch, it still lets each event through once (duplicates in
the batch, redeliveries), and a handler runs in its event's trace with no span made when no span
is recorded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry import trace
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase

from shared import tracing
from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.events import ReturnInitiated
from shared.inbox import InboxMixin
from shared.kafka.consumer import ConsumerRunner, EventHandlers, HandlerContext
from shared.kafka.records import consumer_record
from tests.conftest import Harness
from tests.support.factories import return_initiated

TOPIC = "test.inbox.claim"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Base(DeclarativeBase):
    pass


class ClaimInbox(InboxMixin, Base):
    __tablename__ = "claim_inbox"


def _record(env: Envelope, offset: int) -> ConsumerRecord[bytes, bytes]:
    return consumer_record(env, topic=TOPIC, offset=offset)


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def _runner(harness: Harness, handlers: EventHandlers) -> tuple[ConsumerRunner, AsyncEngine]:
    db = f"test_inbox_claim_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)  # type: ignore[attr-defined]
    engine = make_engine(harness.stack.postgres.database_url(db))  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    runner = ConsumerRunner(
        service=f"claim-test-{uuid.uuid4().hex[:6]}",
        group_id="test-claim",
        topics=[TOPIC],
        handlers=handlers,
        sessionmaker=make_sessionmaker(engine),
        inbox_model=ClaimInbox,
        producer=None,  # type: ignore[arg-type]  # only dead letters use it; none occur here
        bootstrap_servers="unused:9092",
    )
    return runner, engine


async def test_a_batch_claims_its_events_in_one_statement_of_the_same_text_for_any_size(
    harness: Harness,
) -> None:
    handlers = EventHandlers()
    handled: list[str] = []

    @handlers.on(ReturnInitiated)
    async def opened(event: ReturnInitiated, ctx: HandlerContext) -> None:
        handled.append(event.return_id)

    runner, engine = await _runner(harness, handlers)
    one = [return_initiated("R-1", TRACEPARENT)]
    three = [
        return_initiated("R-2", TRACEPARENT),
        return_initiated("R-3", TRACEPARENT),
        return_initiated("R-4", TRACEPARENT),
    ]
    claims: list[str] = []
    try:
        for batch in (
            [_record(one[0], 0)],
            # R-3 twice in one batch, as a producer retry leaves it.
            [_record(e, 1 + i) for i, e in enumerate([*three, three[1]])],
        ):
            with _statements(engine) as seen:
                await runner._handle_records(TOPIC, batch)
            claims += [s for s in seen if "claim_inbox" in s]
        assert handled == ["R-1", "R-2", "R-3", "R-4"]
        assert len(claims) == 2 and claims[0] == claims[1]

        # Redelivered, all of them (a crash before the offsets were committed): no effect.
        await runner._handle_records(TOPIC, [_record(e, 10 + i) for i, e in enumerate(one + three)])
        assert handled == ["R-1", "R-2", "R-3", "R-4"]
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT ce_id, ce_type, topic, outcome FROM claim_inbox"))
            ).all()
        assert sorted(str(r[0]) for r in rows) == sorted(str(e.id) for e in one + three)
        assert {(r[1], r[2], r[3]) for r in rows} == {(ReturnInitiated.ce_type, TOPIC, "handled")}
    finally:
        await engine.dispose()


async def test_with_no_span_recorded_a_handler_runs_in_its_events_trace_without_a_span(
    harness: Harness,
) -> None:
    handlers = EventHandlers()
    seen: list[tuple[bool, str | None, str | None]] = []

    @handlers.on(ReturnInitiated)
    async def opened(event: ReturnInitiated, ctx: HandlerContext) -> None:
        span = trace.get_current_span()
        seen.append(
            (span.is_recording(), tracing.current_trace_id(), tracing.current_traceparent())
        )

    runner, engine = await _runner(harness, handlers)
    try:
        assert not tracing.recorded(runner.service)
        await runner._handle_records(
            TOPIC,
            [_record(return_initiated("R-1", TRACEPARENT), 0), _record(return_initiated("R-2"), 1)],
        )
    finally:
        await engine.dispose()
    # The publisher's context itself: what the handler enqueues continues the same trace.
    assert seen[0] == (False, TRACEPARENT.split("-")[1], TRACEPARENT)
    # An event published outside any trace is handled outside any.
    assert seen[1] == (False, None, None)
