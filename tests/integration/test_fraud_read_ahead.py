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

from services.fraud.scoring.base import fact_time
from services.fraud.scoring.consumer import ReadAheadRunner
from services.fraud.settings import FraudSettings
from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.events import (
    ClaimType,
    EscalationChannel,
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


def _escalated(rid: str) -> Envelope:
    return Envelope(
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id="S-1",
            claim_type=ClaimType.DAMAGED,
            claimed_amount=10_000,
            description="read-ahead test",
            channel=EscalationChannel.PORTAL,
            filed_at=datetime.now(UTC),
            filed_by="test",
        ),
        source="test",
    )


def _handlers() -> EventHandlers:
    handlers = EventHandlers()
    handlers.expedite(SellerEscalationFiled)

    @handlers.on(ReturnInitiated)
    @handlers.on(SellerEscalationFiled)
    async def write(event: Any, ctx: HandlerContext) -> None:
        kind = "escalation" if isinstance(event, SellerEscalationFiled) else "return"
        await ctx.session.execute(insert(Handled).values(return_id=event.return_id, kind=kind))

    return handlers


async def _setup(
    harness: Harness, backlog_age: timedelta = timedelta(0)
) -> tuple[Any, str, str, str]:
    """A database, a topic holding a backlog of returns and then one escalation whose return
    is the backlog's first event, and the escalated return's id. The backlog's returns were
    initiated `backlog_age` before the escalation is filed."""
    db = f"test_fraud_read_ahead_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)
    engine = make_engine(harness.stack.postgres.database_url(db))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"test.ahead.{uuid.uuid4().hex[:8]}"
    # One partition: the whole backlog is in front of the escalation.
    await ensure_topics(bootstrap, names=[topic], partitions=1)
    escalated = f"RET-AHEAD-{uuid.uuid4().hex[:6]}"
    events = [_initiated(escalated, backlog_age)]
    events += [_initiated(f"RET-BACKLOG-{i:05d}", backlog_age) for i in range(BACKLOG - 1)]
    events.append(_escalated(escalated))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, e.value(), key=e.key.encode(), headers=e.headers())
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return engine, bootstrap, topic, escalated


def _initiated(return_id: str, age: timedelta) -> Envelope:
    payload = return_initiated(return_id).payload
    assert isinstance(payload, ReturnInitiated)
    return Envelope(
        payload.model_copy(update={"initiated_at": payload.initiated_at - age}), source="test"
    )


def _runner(
    cls: type[ConsumerRunner], engine: Any, bootstrap: str, topic: str, group: str
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
        }
    return cls(**kwargs)


async def _handled(engine: Any) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT return_id, kind FROM ahead_handled ORDER BY id"))
        return [(r[0], r[1]) for r in rows]


async def _run_until_all_handled(runner: ConsumerRunner, engine: Any) -> list[tuple[str, str]]:
    task = asyncio.create_task(runner.run())
    try:
        await eventually(
            lambda: _handled(engine),
            until=lambda rows: len(rows) >= BACKLOG + 1,
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
