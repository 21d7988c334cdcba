"""The consumer runner commits its offsets at most once every `COMMIT_INTERVAL_S`, not once per
poll, on the real broker: every event handled once, the offsets reaching the end once the
consumer is idle, and what was handled committed when the runner stops."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import BigInteger, String, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import make_engine, make_sessionmaker
from shared.events import ReturnInitiated
from shared.inbox import InboxMixin
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import ConsumerRunner, EventHandlers, HandlerContext
from tests.conftest import Harness
from tests.support.factories import return_initiated
from tests.support.waiting import eventually


class Base(DeclarativeBase):
    pass


class CommitInbox(InboxMixin, Base):
    __tablename__ = "commit_inbox"


class Effect(Base):
    """One row per handler call (not idempotent: a second call shows)."""

    __tablename__ = "commit_effects"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(String(64))


handlers = EventHandlers()


@handlers.on(ReturnInitiated)
async def _record(event: ReturnInitiated, ctx: HandlerContext) -> None:
    await ctx.session.execute(insert(Effect).values(return_id=event.return_id))


async def _setup(harness: Harness) -> tuple[str, str, str, AsyncEngine, ConsumerRunner]:
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"test.commits.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, names=[topic, f"{topic}.dlq"])
    db = f"test_offset_commits_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)
    engine = make_engine(harness.stack.postgres.database_url(db))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    group = f"commits-{uuid.uuid4().hex[:8]}"
    runner = ConsumerRunner(
        service="commits-test",
        group_id=group,
        topics=[topic],
        handlers=handlers,
        sessionmaker=make_sessionmaker(engine),
        inbox_model=CommitInbox,
        # Only a dead letter would be sent, and these events are all valid.
        producer=None,  # type: ignore[arg-type]
        bootstrap_servers=bootstrap,
    )
    return bootstrap, topic, group, engine, runner


async def _assigned(runner: ConsumerRunner) -> None:
    """Until the group gave the runner its partitions: a rebalance commits (the revoke
    listener), which would hide the cadence."""
    await asyncio.wait_for(runner.ready.wait(), 30)

    async def assignment() -> int:
        return len(runner.consumer.assignment()) if runner.consumer is not None else 0

    await eventually(assignment, until=lambda n: n > 0, what="partitions assigned")


async def _uncommitted(bootstrap: str, topic: str, group: str) -> int:
    """Records of `topic` past the group's committed offsets (all of them if none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        (described,) = await admin.describe_topics([topic])
        parts = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        assert parts, f"no partitions of {topic} known"
        ends = await consumer.end_offsets(parts)
        committed = await admin.list_consumer_group_offsets(group, partitions=parts)
        return sum(
            ends[tp] - max(committed[tp].offset if tp in committed else 0, 0) for tp in parts
        )
    finally:
        await consumer.stop()
        await admin.close()


async def _effects(engine: AsyncEngine, prefix: str) -> int:
    async with engine.connect() as conn:
        n = await conn.scalar(
            text("SELECT count(*) FROM commit_effects WHERE return_id LIKE :p"), {"p": f"{prefix}%"}
        )
    return int(n or 0)


async def _send_spaced(bootstrap: str, topic: str, prefix: str, n: int, gap_s: float) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(n):
            env = return_initiated(f"{prefix}-{i:03d}")
            await producer.send_and_wait(
                topic, env.value(), key=env.key.encode(), headers=env.headers()
            )
            await asyncio.sleep(gap_s)
    finally:
        await producer.stop()


async def test_offsets_are_committed_once_an_interval_not_once_a_poll(harness: Harness) -> None:
    bootstrap, topic, group, engine, runner = await _setup(harness)
    polls_with_records = 0
    commits = 0
    handle_poll, commit_pending = runner._handle_poll, runner.commit_pending

    async def counted_poll(batches: dict[Any, Any]) -> None:
        nonlocal polls_with_records
        polls_with_records += any(batches.values())
        await handle_poll(batches)

    async def counted_commit() -> None:
        nonlocal commits
        commits += bool(runner._pending)
        await commit_pending()

    runner._handle_poll = counted_poll  # type: ignore[method-assign]
    runner.commit_pending = counted_commit  # type: ignore[method-assign]
    task = asyncio.create_task(runner.run())
    try:
        await _assigned(runner)
        prefix = f"RET-COMMIT-{uuid.uuid4().hex[:6]}"
        began = time.monotonic()
        # One event every 50 ms: most polls find one or two, each a transaction of its own.
        await _send_spaced(bootstrap, topic, prefix, 20, 0.05)
        await eventually(
            lambda: _effects(engine, prefix), until=lambda n: n == 20, what="20 events handled"
        )
        elapsed = time.monotonic() - began
        # Idle now: what was handled is committed once due, without a further record.
        await eventually(
            lambda: _uncommitted(bootstrap, topic, group),
            until=lambda n: n == 0,
            timeout=3 * runner.COMMIT_INTERVAL_S + 5,
            what="offsets committed to the end",
        )
        assert polls_with_records >= 4, f"the events came in {polls_with_records} polls"
        # Once per poll before: as many commits as polls with records.
        assert commits < polls_with_records
        assert commits <= elapsed / runner.COMMIT_INTERVAL_S + 2
        assert await _effects(engine, prefix) == 20
    finally:
        runner.stop()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)
        await engine.dispose()


async def test_what_was_handled_is_committed_when_the_runner_stops(harness: Harness) -> None:
    bootstrap, topic, group, engine, runner = await _setup(harness)
    # Never due while the test runs: only the stop commits.
    runner.COMMIT_INTERVAL_S = 600.0
    task = asyncio.create_task(runner.run())
    try:
        await _assigned(runner)
        prefix = f"RET-STOP-{uuid.uuid4().hex[:6]}"
        await _send_spaced(bootstrap, topic, prefix, 5, 0.0)
        await eventually(
            lambda: _effects(engine, prefix), until=lambda n: n == 5, what="5 events handled"
        )
        assert await _uncommitted(bootstrap, topic, group) == 5
    finally:
        runner.stop()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)
        await engine.dispose()
    assert await _uncommitted(bootstrap, topic, group) == 0
