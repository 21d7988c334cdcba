"""The consumer runner's batch hook: a batch handler gets a poll's new events once each, in
partition order, inside the batch's transaction; a failing batch falls back to one event per
transaction so that only the poison event is dead-lettered."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import BigInteger, String, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.events import ReturnInitiated, SellerEscalationFiled
from shared.inbox import InboxMixin
from shared.kafka.consumer import ConsumerRunner, EventHandlers, HandlerContext
from shared.kafka.records import consumer_record
from shared.outbox import note_enqueued
from tests.conftest import Harness
from tests.support.factories import return_initiated

TOPIC = "test.batches.returns"


class Base(DeclarativeBase):
    pass


class BatchInbox(InboxMixin, Base):
    __tablename__ = "batch_inbox"


class Effect(Base):
    """One row per handler call (deliberately not idempotent: a second call shows)."""

    __tablename__ = "batch_effects"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(String(64))


class _Producer:
    """Stands in for the DLQ producer: records what would be dead-lettered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, dict[str, bytes]]] = []

    async def send_and_wait(self, topic: str, value: Any, key: Any, headers: Any) -> None:
        self.sent.append((topic, key, dict(headers)))


def _record(
    env: Envelope, offset: int, partition: int = 0, topic: str = TOPIC
) -> ConsumerRecord[bytes, bytes]:
    return consumer_record(env, topic=topic, offset=offset, partition=partition)


async def _runner(harness: Harness, handlers: EventHandlers) -> tuple[ConsumerRunner, Any]:
    db = f"test_consumer_batches_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)
    engine = make_engine(harness.stack.postgres.database_url(db))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    runner = ConsumerRunner(
        service="test",
        group_id="test-batches",
        topics=[TOPIC],
        handlers=handlers,
        sessionmaker=make_sessionmaker(engine),
        inbox_model=BatchInbox,
        producer=_Producer(),  # type: ignore[arg-type]
        bootstrap_servers="unused:9092",
    )
    return runner, engine


def _writing_effects() -> EventHandlers:
    """One Effect row per ReturnInitiated handled."""
    handlers = EventHandlers()

    @handlers.on(ReturnInitiated)
    async def write(event: ReturnInitiated, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))

    return handlers


async def _effects(engine: Any) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT return_id FROM batch_effects ORDER BY id"))
        return [r[0] for r in rows]


async def test_batch_handler_gets_each_new_event_once_in_partition_order(
    harness: Harness,
) -> None:
    handlers = EventHandlers()
    batches: list[list[str]] = []

    @handlers.on(ReturnInitiated)
    async def write(event: ReturnInitiated, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))

    @handlers.on_batch
    async def together(contexts: list[HandlerContext]) -> None:
        batches.append([ctx.envelope.payload.return_id for ctx in contexts])  # type: ignore[attr-defined]
        assert len({id(ctx.session) for ctx in contexts}) == 1
        for ctx in contexts:
            await handlers.dispatch(ctx)

    runner, engine = await _runner(harness, handlers)
    try:
        a1, a2, b1 = (
            return_initiated("RET-A-1"),
            return_initiated("RET-A-2"),
            return_initiated("RET-B-1"),
        )
        # a1 arrives twice in the same poll (a producer retry), a2 and b1 once.
        records = [_record(e, i) for i, e in enumerate([a1, b1, a1, a2])]
        await runner._handle_together([runner._decode(r) for r in records])
        assert batches == [["RET-A-1", "RET-B-1", "RET-A-2"]]
        assert await _effects(engine) == ["RET-A-1", "RET-B-1", "RET-A-2"]

        # The whole poll redelivered (offsets not committed): nothing new, no handler call.
        await runner._handle_together([runner._decode(r) for r in records])
        assert len(batches) == 1
        assert await _effects(engine) == ["RET-A-1", "RET-B-1", "RET-A-2"]
    finally:
        await engine.dispose()


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone(harness: Harness) -> None:
    handlers = EventHandlers()
    calls: list[int] = []

    @handlers.on(ReturnInitiated)
    async def write(event: ReturnInitiated, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))
        if event.return_id == "RET-POISON":
            raise ValueError("this return cannot be handled")

    @handlers.on_batch
    async def together(contexts: list[HandlerContext]) -> None:
        calls.append(len(contexts))
        for ctx in contexts:
            await handlers.dispatch(ctx)

    runner, engine = await _runner(harness, handlers)
    try:
        events = [
            return_initiated("RET-GOOD-1"),
            return_initiated("RET-POISON"),
            return_initiated("RET-GOOD-2"),
        ]
        records = [_record(e, i) for i, e in enumerate(events)]
        await runner._handle_together([runner._decode(r) for r in records])

        # The batch ran once and rolled back; then each event alone, the poison one failing.
        assert calls == [3]
        assert await _effects(engine) == ["RET-GOOD-1", "RET-GOOD-2"]
        producer = runner.producer
        assert [(t, k) for t, k, _ in producer.sent] == [  # type: ignore[attr-defined]
            (f"{TOPIC}.dlq", b"RET-POISON")
        ]
        assert b"ValueError" in producer.sent[0][2]["dlq_error"]  # type: ignore[attr-defined]
        async with engine.connect() as conn:
            outcomes = dict(
                (await conn.execute(text("SELECT ce_id, outcome FROM batch_inbox"))).all()
            )
        assert outcomes == {
            events[0].id: "handled",
            events[1].id: "dead_lettered",
            events[2].id: "handled",
        }
    finally:
        await engine.dispose()


def _enqueuing_effects() -> EventHandlers:
    """One Effect row per ReturnInitiated handled; those of returns named "RET-W-…" are said to
    have enqueued an event (as `shared.outbox.enqueue` says), the others not."""
    handlers = EventHandlers()

    @handlers.on(ReturnInitiated)
    async def write(event: ReturnInitiated, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))
        if event.return_id.startswith("RET-W-"):
            note_enqueued(ctx.session)

    return handlers


async def test_the_commit_hook_runs_after_a_batch_that_enqueued_events_commits(
    harness: Harness,
) -> None:
    # The services pass their outbox relay's wake: it must run once the effects are visible to
    # another connection (the relay's), and not for a batch of duplicates only, nor for one
    # whose handlers enqueued nothing (the relay's round would claim nothing).
    runner, engine = await _runner(harness, _enqueuing_effects())
    seen_at_wake: list[list[str]] = []
    wakes: list[asyncio.Task[None]] = []

    async def look() -> None:
        seen_at_wake.append(await _effects(engine))

    def wake() -> None:
        wakes.append(asyncio.create_task(look()))

    runner.on_committed = wake
    try:
        first = [_record(return_initiated("RET-W-1"), 0), _record(return_initiated("RET-W-2"), 1)]
        await runner._handle_together([runner._decode(r) for r in first])
        await asyncio.gather(*wakes)
        assert seen_at_wake == [["RET-W-1", "RET-W-2"]]
        # Redelivered: nothing new was committed, so nothing to wake the relay for.
        await runner._handle_together([runner._decode(r) for r in first])
        assert len(wakes) == 1
        # The one-by-one path (after a failed batch) wakes it too.
        await runner._handle_alone(TOPIC, runner._decode(_record(return_initiated("RET-W-3"), 2)))
        await asyncio.gather(*wakes)
        assert seen_at_wake[-1] == ["RET-W-1", "RET-W-2", "RET-W-3"]
        # New events whose handlers enqueued nothing, in a batch and alone: no wake.
        quiet = [_record(return_initiated("RET-Q-1"), 3), _record(return_initiated("RET-Q-2"), 4)]
        await runner._handle_together([runner._decode(r) for r in quiet])
        await runner._handle_alone(TOPIC, runner._decode(_record(return_initiated("RET-Q-3"), 5)))
        assert len(wakes) == 2
        assert (await _effects(engine))[-3:] == ["RET-Q-1", "RET-Q-2", "RET-Q-3"]
    finally:
        await engine.dispose()


def _escalation(rid: str, claim_type: str = "DAMAGED") -> Envelope:
    return Envelope(
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id="S-1",
            claim_type=claim_type,
            claimed_amount=100_000,
            description="arrived broken",
            channel="PORTAL",
            filed_at=datetime.now(UTC),
            filed_by="seller-portal",
        ),
        source="test",
    )


async def test_a_poll_is_one_batch_per_topic_with_expedited_keys_first(
    harness: Harness,
) -> None:
    handlers = EventHandlers()
    handlers.expedite(SellerEscalationFiled)
    batches: list[list[str]] = []

    @handlers.on(ReturnInitiated)
    @handlers.on(SellerEscalationFiled)
    async def write(event: Any, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))

    @handlers.on_batch
    async def together(contexts: list[HandlerContext]) -> None:
        batches.append(
            [
                f"{ctx.envelope.payload.return_id}:{ctx.envelope.type.split('.')[-2]}"  # type: ignore[attr-defined]
                for ctx in contexts
            ]
        )
        for ctx in contexts:
            await handlers.dispatch(ctx)

    runner, engine = await _runner(harness, handlers)
    p0, p1, p2 = (TopicPartition(TOPIC, i) for i in range(3))
    polled = {
        p0: [return_initiated("A"), return_initiated("B"), _escalation("A"), return_initiated("C")],
        p1: [return_initiated("D"), return_initiated("E"), _escalation("E")],
        p2: [return_initiated("F"), _escalation("F")],
    }
    try:
        await runner._handle_poll(
            {
                tp: [_record(e, i, tp.partition) for i, e in enumerate(es)]
                for tp, es in polled.items()
            }
        )
        assert batches == [
            # The expedited keys of every partition first, each key's events in order ...
            [
                "A:return_initiated",
                "A:seller_escalation_filed",
                "E:return_initiated",
                "E:seller_escalation_filed",
                "F:return_initiated",
                "F:seller_escalation_filed",
            ],
            # ... then the rest of every partition: one transaction each, not one per partition.
            ["B:return_initiated", "C:return_initiated", "D:return_initiated"],
        ]
        # Each partition's offset moves past its whole poll, the expedited last record included.
        assert runner._pending == {p0: 4, p1: 3, p2: 2}
        assert sorted(await _effects(engine)) == sorted("AABCDEEFF")
    finally:
        await engine.dispose()


async def test_expedited_keys_of_every_topic_go_before_the_rest_of_the_poll_in_one_batch(
    harness: Harness,
) -> None:
    """A poll of two topics: the second topic's expedited keys are not held behind the first
    topic's ordinary events (reconciliation's decision on an escalation waits for the fraud
    assessment on its own topic, not for a poll's worth of scans on the returns topic), and
    the rest of the poll, of both topics, is one transaction: each topic's events after the
    previous topic's, as a transaction per topic handled them. Each inbox row names its
    event's own topic."""
    handlers = EventHandlers()
    handlers.expedite(SellerEscalationFiled)
    batches: list[list[str]] = []

    @handlers.on(ReturnInitiated)
    @handlers.on(SellerEscalationFiled)
    async def write(event: Any, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))

    @handlers.on_batch
    async def together(contexts: list[HandlerContext]) -> None:
        batches.append([f"{ctx.topic}:{ctx.envelope.payload.return_id}" for ctx in contexts])  # type: ignore[attr-defined]
        for ctx in contexts:
            await handlers.dispatch(ctx)

    runner, engine = await _runner(harness, handlers)
    other = "test.batches.other"
    busy, quick = TopicPartition(TOPIC, 0), TopicPartition(other, 0)
    try:
        await runner._handle_poll(
            {
                busy: [_record(return_initiated(r), i) for i, r in enumerate("ABC")],
                quick: [
                    _record(return_initiated("D"), 0, topic=other),
                    _record(_escalation("E"), 1, topic=other),
                ],
            }
        )
        assert batches == [
            [f"{other}:E"],  # the expedited key, though its topic came second in the poll
            [f"{TOPIC}:A", f"{TOPIC}:B", f"{TOPIC}:C", f"{other}:D"],
        ]
        assert runner._pending == {busy: 3, quick: 2}
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT topic, count(*) FROM batch_inbox GROUP BY 1"))
            assert dict(rows.all()) == {TOPIC: 3, other: 2}
    finally:
        await engine.dispose()


async def test_an_expedited_type_narrowed_by_its_payload_sends_only_those_events_first(
    harness: Harness,
) -> None:
    """Reconciliation's case: fraud assesses every event, but a decision waits only on the
    assessment of its claim. With `when`, the escalation's key goes first and the other events
    of the same type wait their turn with the rest of the poll, so the first transaction is
    the claim's alone instead of half the poll."""
    handlers = EventHandlers()
    handlers.expedite(SellerEscalationFiled, when=lambda e: e.claim_type == "DAMAGED")
    batches: list[list[str]] = []

    @handlers.on(SellerEscalationFiled)
    async def write(event: Any, ctx: HandlerContext) -> None:
        await ctx.session.execute(insert(Effect).values(return_id=event.return_id))

    @handlers.on_batch
    async def together(contexts: list[HandlerContext]) -> None:
        batches.append([ctx.envelope.payload.return_id for ctx in contexts])  # type: ignore[attr-defined]
        for ctx in contexts:
            await handlers.dispatch(ctx)

    def lost(rid: str) -> Envelope:
        return _escalation(rid, claim_type="NOT_RECEIVED")

    runner, engine = await _runner(harness, handlers)
    tp = TopicPartition(TOPIC, 0)
    try:
        await runner._handle_poll(
            {tp: [_record(e, i) for i, e in enumerate([lost("A"), lost("B"), _escalation("C")])]}
        )
        assert batches == [["C"], ["A", "B"]]
        assert runner._pending == {tp: 3}
        assert sorted(await _effects(engine)) == ["A", "B", "C"]
    finally:
        await engine.dispose()


async def test_a_known_event_type_without_a_handler_costs_no_decoding_and_no_inbox_row(
    harness: Harness,
) -> None:
    """A service subscribes to whole topics and handles some of their types: the others are
    skipped before validation and leave no inbox row (there is no effect to guard), while
    their offsets move on with the poll's."""
    runner, engine = await _runner(harness, _writing_effects())
    try:
        handled, skipped = return_initiated("RET-H-1"), _escalation("RET-S-1")
        tp = TopicPartition(TOPIC, 0)
        await runner._handle_poll({tp: [_record(handled, 0), _record(skipped, 1)]})
        assert await _effects(engine) == ["RET-H-1"]
        async with engine.connect() as conn:
            inbox = (await conn.execute(text("SELECT ce_id FROM batch_inbox"))).scalars().all()
        assert [str(i) for i in inbox] == [str(handled.id)]
        assert runner._pending[tp] == 2  # the skipped record's offset is committed too
    finally:
        await engine.dispose()


async def test_a_message_that_is_no_event_is_dead_lettered_once_however_often_it_comes(
    harness: Harness,
) -> None:
    """A restart or a rebalance redelivers what was not committed: a valid event is known again
    by its ce_id; a message that is no valid event, by its place in the log."""
    runner, engine = await _runner(harness, _writing_effects())
    try:
        good = _record(return_initiated("RET-BESIDE-POISON"), 0)
        broken = [
            # Valid CloudEvents headers, a payload breaking its contract.
            replace(good, offset=1, key=b"RET-BROKEN", value=b'{"x": 1}'),
            # No headers at all, and not JSON.
            replace(good, offset=2, key=b"RET-GARBAGE", value=b"\xff", headers=()),
        ]
        for _ in range(3):
            await runner._handle_records(TOPIC, [good, *broken])
        producer = runner.producer
        assert sorted(k for _, k, _ in producer.sent) == [  # type: ignore[attr-defined]
            b"RET-BROKEN",
            b"RET-GARBAGE",
        ]
        assert await _effects(engine) == ["RET-BESIDE-POISON"]

        # Another message at the same place of a topic made anew (its offsets start again).
        again = replace(broken[0], timestamp=broken[0].timestamp + 1)
        await runner._handle_records(TOPIC, [again])
        assert len(producer.sent) == 3  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
