"""Fraud's consumer reads ahead of a backlog (services/fraud/scoring/consumer.py): an
escalation behind a backlog of scans is handled long before the backlog is, after its own
return's earlier events, every event exactly once, also when the process dies after handling it
out of offset order; and an escalation days ahead of the backlog's events (a replay) waits for
them, since the detectors count in event time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import BigInteger, String, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.fraud.scoring.base import counted_time, fact_time
from services.fraud.scoring.consumer import ReadAheadRunner
from services.fraud.settings import FraudSettings
from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.events import (
    ClaimType,
    EscalationChannel,
    EvidenceAdded,
    ReturnInitiated,
    SellerEscalationFiled,
)
from shared.inbox import InboxMixin
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import ConsumerRunner, EventHandlers, HandlerContext
from tests.conftest import Harness
from tests.support.factories import return_initiated
from tests.support.waiting import eventually

BACKLOG = 1200


class Base(DeclarativeBase):
    pass


class AheadInbox(InboxMixin, Base):
    __tablename__ = "ahead_inbox"


class Handled(Base):
    """One row per handler call, in the order of the calls (not idempotent: a second call
    shows)."""

    __tablename__ = "ahead_handled"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))


def _escalated(rid: str, filed_at: datetime | None = None) -> Envelope:
    return Envelope(
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id="S-1",
            claim_type=ClaimType.DAMAGED,
            claimed_amount=10_000,
            description="read-ahead test",
            channel=EscalationChannel.PORTAL,
            filed_at=filed_at or datetime.now(UTC),
            filed_by="test",
        ),
        source="test",
    )


def _handlers() -> EventHandlers:
    handlers = EventHandlers()
    handlers.expedite(SellerEscalationFiled)

    @handlers.on(ReturnInitiated)
    @handlers.on(SellerEscalationFiled)
    @handlers.on(EvidenceAdded)
    async def write(event: Any, ctx: HandlerContext) -> None:
        kind = (
            "escalation"
            if isinstance(event, SellerEscalationFiled)
            else "evidence"
            if isinstance(event, EvidenceAdded)
            else "return"
        )
        await ctx.session.execute(insert(Handled).values(return_id=event.return_id, kind=kind))

    return handlers


async def _database(harness: Harness) -> Any:
    db = f"test_fraud_read_ahead_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)
    engine = make_engine(harness.stack.postgres.database_url(db))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


async def _topic(harness: Harness, partitions: int = 1) -> tuple[str, str]:
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"test.ahead.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, names=[topic], partitions=partitions)
    return bootstrap, topic


async def _send(bootstrap: str, topic: str, events: list[Envelope], partition: int = 0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(
                topic, e.value(), key=e.key.encode(), headers=e.headers(), partition=partition
            )
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _setup(
    harness: Harness, backlog_age: timedelta = timedelta(0)
) -> tuple[Any, str, str, str]:
    """A database, a topic holding a backlog of returns and then one escalation whose return
    is the backlog's first event, and the escalated return's id. The backlog's returns were
    initiated `backlog_age` before the escalation is filed."""
    engine = await _database(harness)
    # One partition: the whole backlog is in front of the escalation.
    bootstrap, topic = await _topic(harness)
    escalated = f"RET-AHEAD-{uuid.uuid4().hex[:6]}"
    events = [_initiated(escalated, backlog_age)]
    events += [_initiated(f"RET-BACKLOG-{i:05d}", backlog_age) for i in range(BACKLOG - 1)]
    events.append(_escalated(escalated))
    await _send(bootstrap, topic, events)
    return engine, bootstrap, topic, escalated


def _initiated(return_id: str, age: timedelta) -> Envelope:
    payload = return_initiated(return_id).payload
    assert isinstance(payload, ReturnInitiated)
    return Envelope(
        payload.model_copy(update={"initiated_at": payload.initiated_at - age}), source="test"
    )


def _runner(
    cls: type[ConsumerRunner],
    engine: Any,
    bootstrap: str,
    topic: str,
    group: str,
    **ahead: Any,
) -> ConsumerRunner:
    kwargs: dict[str, Any] = {
        "service": "fraud-test",
        "group_id": group,
        "topics": [topic],
        "handlers": _handlers(),
        "sessionmaker": make_sessionmaker(engine),
        "inbox_model": AheadInbox,
        "producer": None,
        "bootstrap_servers": bootstrap,
        "batch_size": 200,
    }
    if cls is ReadAheadRunner:
        # Bounded as fraud's app bounds it (services/fraud/app.py).
        overtake = FraudSettings.model_fields["consumer_expedite_overtake_s"].default
        kwargs |= {
            "chunk_size": 50,
            "read_ahead": 5000,
            "overtake": timedelta(seconds=overtake),
            "event_time": fact_time,
            "mark_time": counted_time,
        } | ahead
    return cls(**kwargs)


async def _handled(engine: Any) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT return_id, kind FROM ahead_handled ORDER BY id"))
        return [(r[0], r[1]) for r in rows]


async def _run_until_all_handled(
    runner: ConsumerRunner, engine: Any, count: int = BACKLOG + 1
) -> list[tuple[str, str]]:
    task = asyncio.create_task(runner.run())
    try:
        await eventually(
            lambda: _handled(engine),
            until=lambda rows: len(rows) >= count,
            what="the whole backlog handled",
            timeout=60,
        )
    finally:
        runner.stop()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)
    return await _handled(engine)


async def test_an_escalation_is_not_handled_behind_the_backlog_fetched_before_it(
    harness: Harness,
) -> None:
    engine, bootstrap, topic, escalated = await _setup(harness)
    try:
        # The shared runner expedites within a poll only: the escalation comes last.
        plain = await _run_until_all_handled(
            _runner(ConsumerRunner, engine, bootstrap, topic, f"plain-{uuid.uuid4().hex[:6]}"),
            engine,
        )
        assert plain.index((escalated, "escalation")) >= BACKLOG - 200
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE ahead_handled, ahead_inbox"))

        rows = await _run_until_all_handled(
            _runner(ReadAheadRunner, engine, bootstrap, topic, f"ahead-{uuid.uuid4().hex[:6]}"),
            engine,
        )
        position = rows.index((escalated, "escalation"))
        # Fetched with the backlog's sixth poll at the latest, it waits for one chunk at most.
        assert position < BACKLOG // 2
        # Its return's earlier event first; every event once.
        assert rows.index((escalated, "return")) < position
        assert len(rows) == len(set(rows)) == BACKLOG + 1
    finally:
        await engine.dispose()


async def test_an_escalation_waits_for_a_backlog_of_days_before_it(harness: Harness) -> None:
    """A replay: the backlog's events happened three days before the claim. Scored ahead of
    them, the claim would be weighed against its seller's record without those days (the
    detectors count in event time), so it is handled in offset order, after them."""
    engine, bootstrap, topic, escalated = await _setup(harness, backlog_age=timedelta(days=3))
    try:
        rows = await _run_until_all_handled(
            _runner(ReadAheadRunner, engine, bootstrap, topic, f"replay-{uuid.uuid4().hex[:6]}"),
            engine,
        )
        assert rows.index((escalated, "escalation")) == BACKLOG
        assert len(rows) == len(set(rows)) == BACKLOG + 1
    finally:
        await engine.dispose()


async def test_evidence_stamped_on_arrival_does_not_let_a_claim_ahead_of_a_replay(
    harness: Harness,
) -> None:
    """A replay again, as intake publishes it: the returns carry the world's time, three days
    ago, but intake stamps evidence (and claims) with its own clock as it arrives, so evidence
    sent early in the replay sits among the backlog with today's time. Read as a mark, it told
    the consumer it had counted to today and the claim went ahead of the days before it
    (main's runner: every fact time is a mark); fraud's marks are the sender-timed facts."""
    engine = await _database(harness)
    bootstrap, topic = await _topic(harness)
    escalated = f"RET-AHEAD-{uuid.uuid4().hex[:6]}"
    age = timedelta(days=3)
    events = [_initiated(escalated, age)]
    events += [_initiated(f"RET-BACKLOG-{i:05d}", age) for i in range(100)]
    events.append(
        Envelope(
            EvidenceAdded(
                escalation_id="ESC-EARLIER",
                return_id="RET-BACKLOG-00000",
                seller_id="S-1",
                added_at=datetime.now(UTC),
            ),
            source="test",
        )
    )
    events += [_initiated(f"RET-BACKLOG-{i:05d}", age) for i in range(100, BACKLOG - 1)]
    events.append(_escalated(escalated))
    await _send(bootstrap, topic, events)
    try:
        fraud = await _run_until_all_handled(
            _runner(ReadAheadRunner, engine, bootstrap, topic, f"marks-{uuid.uuid4().hex[:6]}"),
            engine,
            count=BACKLOG + 2,
        )
        assert fraud.index((escalated, "escalation")) == BACKLOG + 1
        assert len(fraud) == len(set(fraud)) == BACKLOG + 2
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE ahead_handled, ahead_inbox"))
        # Marks read from every fact time: the claim goes ahead of most of the backlog.
        every = await _run_until_all_handled(
            _runner(
                ReadAheadRunner,
                engine,
                bootstrap,
                topic,
                f"every-{uuid.uuid4().hex[:6]}",
                mark_time=None,
            ),
            engine,
            count=BACKLOG + 2,
        )
        assert every.index((escalated, "escalation")) < BACKLOG // 2
    finally:
        await engine.dispose()


async def test_dying_after_an_expedited_escalation_redelivers_without_a_second_effect(
    harness: Harness,
) -> None:
    engine, bootstrap, topic, escalated = await _setup(harness)
    group = f"ahead-crash-{uuid.uuid4().hex[:6]}"
    try:
        first = _runner(ReadAheadRunner, engine, bootstrap, topic, group)
        task = asyncio.create_task(first.run())
        try:
            await eventually(
                lambda: _handled(engine),
                until=lambda rows: (escalated, "escalation") in rows,
                what="the escalation handled ahead of the backlog",
                timeout=60,
            )
        finally:
            # Dies here: the escalation is handled, part of the backlog before it is not.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        partial = await _handled(engine)
        assert len(partial) < BACKLOG + 1

        rows = await _run_until_all_handled(
            _runner(ReadAheadRunner, engine, bootstrap, topic, group), engine
        )
        # The second life starts before the escalation's offset and meets it again: the inbox
        # knows it, so every event has had exactly one effect.
        assert len(rows) == len(set(rows)) == BACKLOG + 1
        assert rows[: len(partial)] == partial
    finally:
        await engine.dispose()


# -- the mark: how far the consumer has counted, wherever it is read ----------------------------


def _in_order_before(rows: list[tuple[str, str]], escalated: str, earlier: list[str]) -> bool:
    """Whether every return sent before the escalation of `escalated` (its partition's earlier
    records) was handled before it: the escalation went in offset order, not ahead."""
    position = rows.index((escalated, "escalation"))
    before = {rid for rid, kind in rows[:position] if kind == "return"}
    return set(earlier) <= before


async def test_a_restarted_consumer_counts_from_the_mark_committed_with_its_offset(
    harness: Harness,
) -> None:
    """A running consumer that has counted to ten minutes ago lets a claim go ahead of a
    partner's late batch of three-day-old scans at its head; so does one restarted there,
    since the mark is committed with the offset. (Without it, the restarted consumer counted
    from the late batch's first record and the claim waited for the whole batch.)"""
    engine = await _database(harness)
    bootstrap, topic = await _topic(harness)
    group = f"ahead-restart-{uuid.uuid4().hex[:6]}"
    live = [f"RET-LIVE-{i:04d}" for i in range(100)]
    try:
        await _send(bootstrap, topic, [_initiated(rid, timedelta(minutes=10)) for rid in live])
        first = await _run_until_all_handled(
            _runner(ReadAheadRunner, engine, bootstrap, topic, group), engine, count=len(live)
        )
        assert [rid for rid, _ in first] == live

        escalated = f"RET-LATE-ESC-{uuid.uuid4().hex[:4]}"
        late = [escalated] + [f"RET-LATE-{i:04d}" for i in range(599)]
        await _send(
            bootstrap,
            topic,
            [_initiated(rid, timedelta(days=3)) for rid in late] + [_escalated(escalated)],
        )
        rows = await _run_until_all_handled(
            _runner(ReadAheadRunner, engine, bootstrap, topic, group),
            engine,
            count=len(live) + len(late) + 1,
        )
        second = rows[len(live) :]
        # Ahead of most of the late batch, after its own return; every event once.
        assert second.index((escalated, "escalation")) < len(late) // 2
        assert second.index((escalated, "return")) < second.index((escalated, "escalation"))
        assert len(rows) == len(set(rows)) == len(live) + len(late) + 1
    finally:
        await engine.dispose()


async def test_a_partition_whose_records_are_not_buffered_yet_is_not_caught_up(
    harness: Harness,
) -> None:
    """Two partitions, each three days of backlog, then an hour-old return and its claim. The
    fetcher hands out one partition's records before the other's, so when the first claim is
    buffered the other partition has nothing buffered but its whole backlog at the broker: it
    is not caught up, and the claim waits in offset order. (Counted as caught up, the claim
    went ahead of the other partition's three days.)"""
    engine = await _database(harness)
    bootstrap, topic = await _topic(harness, partitions=2)
    tag = uuid.uuid4().hex[:4]
    sent: dict[str, list[str]] = {}
    try:
        for partition in (0, 1):
            escalated = f"RET-P{partition}-ESC-{tag}"
            old = [f"RET-P{partition}-OLD-{i:04d}-{tag}" for i in range(1000)]
            new = [escalated] + [f"RET-P{partition}-NEW-{i:04d}-{tag}" for i in range(298)]
            # 1,300 records: the fetcher's batches of 100 end with the claim, none of the other
            # partition's records in the same batch.
            events = [_initiated(rid, timedelta(days=3)) for rid in old]
            events += [_initiated(rid, timedelta(hours=1)) for rid in new]
            events.append(_escalated(escalated))
            await _send(bootstrap, topic, events, partition=partition)
            sent[escalated] = old + new
        rows = await _run_until_all_handled(
            _runner(
                ReadAheadRunner,
                engine,
                bootstrap,
                topic,
                f"ahead-unfetched-{tag}",
                read_ahead=100,
                batch_size=100,
            ),
            engine,
            count=2 * 1300,
        )
        assert len(rows) == len(set(rows)) == 2 * 1300
        first = min(sent, key=lambda rid: rows.index((rid, "escalation")))
        assert _in_order_before(rows, first, sent[first])
    finally:
        await engine.dispose()


async def test_a_claim_on_a_caught_up_replica_waits_for_another_replicas_backlog(
    harness: Harness,
) -> None:
    """Two replicas, a partition each: one has three days of backlog, the other an hour-old
    return and its claim behind 299 more. The claim's replica sees the other's backlog (its
    end past its committed offset, the mark committed with it) and handles the claim in
    offset order. (Seeing its own partitions only, it let the claim go first.)"""
    engine = await _database(harness)
    bootstrap, topic = await _topic(harness, partitions=2)
    tag = uuid.uuid4().hex[:4]
    group = f"ahead-replicas-{tag}"
    replicas = [_runner(ReadAheadRunner, engine, bootstrap, topic, group) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in replicas]

    async def assignments() -> list[int]:
        return [len(r.consumer.assignment()) if r.consumer else 0 for r in replicas]

    try:
        await eventually(assignments, until=lambda a: a == [1, 1], what="a partition each")
        old = [f"RET-OLD-{i:04d}-{tag}" for i in range(1000)]
        await _send(bootstrap, topic, [_initiated(rid, timedelta(days=3)) for rid in old], 0)
        escalated = f"RET-ESC-{tag}"
        new = [escalated] + [f"RET-NEW-{i:04d}-{tag}" for i in range(299)]
        events = [_initiated(rid, timedelta(hours=1)) for rid in new] + [_escalated(escalated)]
        await _send(bootstrap, topic, events, 1)
        rows = await eventually(
            lambda: _handled(engine),
            until=lambda rows: (escalated, "escalation") in rows,
            what="the claim handled",
            timeout=60,
        )
        assert _in_order_before(rows, escalated, new)
    finally:
        for r in replicas:
            r.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
        await engine.dispose()
