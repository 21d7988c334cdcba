"""Backbone benchmark: what the outbox relay and the consumer runner cost against raw Kafka.

Three rates on one single-partition topic each, in one run on the same broker and database:
  raw       aiokafka producer → consumer, nothing else (the baseline);
  outbox    rows committed to an outbox table → relay → on the topic;
  consumer  events on the topic → ConsumerRunner (inbox dedup + one row written per event).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import String, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.events import ReturnInitiated
from shared.inbox import InboxMixin
from shared.kafka.consumer import ConsumerRunner, EventHandlers, HandlerContext
from shared.kafka.producer import make_producer
from shared.outbox import OutboxMixin, OutboxRelay


class Base(DeclarativeBase):
    pass


class BenchOutbox(OutboxMixin, Base):
    __tablename__ = "bench_outbox"


class BenchInbox(InboxMixin, Base):
    __tablename__ = "bench_inbox"


class Effect(Base):
    """The one row a handled event writes, standing in for a real handler's effect."""

    __tablename__ = "bench_effects"

    return_id: Mapped[str] = mapped_column(String(64), primary_key=True)


def _event(i: int) -> ReturnInitiated:
    return ReturnInitiated(
        return_id=f"RET-B{i:08d}",
        order_id=f"ORD-B{i:08d}",
        seller_id=f"S-{i % 500}",
        buyer_id=f"B-{i % 5000}",
        category="electronics",
        item_value=100_000 + i,
        qc_required=bool(i % 2),
        partner_id="swiftship",
        awb=f"SS{i:010d}",
        initiated_at=datetime.now(UTC),
    )


async def _topic(bootstrap: str) -> str:
    name = f"bench.backbone.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()
    return name


async def _drain(bootstrap: str, topic: str, n: int) -> float:
    """Consume until n messages were seen; returns the monotonic time of the last one."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
    )
    await consumer.start()
    seen = 0
    try:
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            seen += sum(len(v) for v in batch.values())
        return time.monotonic()
    finally:
        await consumer.stop()


async def raw_rate(bootstrap: str, n: int) -> float:
    topic = await _topic(bootstrap)
    envelopes = [Envelope(_event(i), source="bench") for i in range(n)]
    producer = make_producer(bootstrap, client_id="bench-raw")
    await producer.start()
    drain = asyncio.create_task(_drain(bootstrap, topic, n))
    started = time.monotonic()
    try:
        futures = [
            await producer.send(topic, e.value(), key=e.key.encode(), headers=e.headers())
            for e in envelopes
        ]
        await asyncio.gather(*futures)
        finished = await drain
    finally:
        await producer.stop()
    return n / (finished - started)


async def outbox_rate(bootstrap: str, database_url: str, n: int) -> float:
    topic = await _topic(bootstrap)
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE bench_outbox"))
    rows = []
    for i in range(n):
        env = Envelope(_event(i), source="bench")
        rows.append(
            {
                "ce_id": env.id,
                "ce_type": env.type,
                "ce_source": env.source,
                "ce_time": env.time,
                "ce_subject": None,
                "topic": topic,
                "key": env.key,
                "payload": json.loads(env.value()),
            }
        )
    async with sessionmaker() as session, session.begin():
        for start in range(0, n, 5000):
            await session.execute(insert(BenchOutbox), rows[start : start + 5000])
    producer = make_producer(bootstrap, client_id="bench-relay")
    await producer.start()
    relay = OutboxRelay(
        service="bench",
        sessionmaker=sessionmaker,
        outbox_model=BenchOutbox,
        producer=producer,
        batch_size=1000,
    )
    drain = asyncio.create_task(_drain(bootstrap, topic, n))
    started = time.monotonic()
    task = asyncio.create_task(relay.run())
    try:
        finished = await drain
    finally:
        relay.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        await engine.dispose()
    return n / (finished - started)


async def consumer_rate(bootstrap: str, database_url: str, n: int) -> float:
    topic = await _topic(bootstrap)
    envelopes = [Envelope(_event(i), source="bench") for i in range(n)]
    producer = make_producer(bootstrap, client_id="bench-consumer-load")
    await producer.start()
    futures = [
        await producer.send(topic, e.value(), key=e.key.encode(), headers=e.headers())
        for e in envelopes
    ]
    await asyncio.gather(*futures)

    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE bench_inbox, bench_effects"))
    handlers = EventHandlers()
    first_at: float | None = None

    @handlers.on(ReturnInitiated)
    async def write_effect(event: ReturnInitiated, ctx: HandlerContext) -> None:
        nonlocal first_at
        # Timed from the first event handled: joining the consumer group is a one-off cost a
        # running service does not pay per event (the raw baseline joins no group at all).
        first_at = first_at or time.monotonic()
        ctx.session.add(Effect(return_id=event.return_id))

    runner = ConsumerRunner(
        service="bench",
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        handlers=handlers,
        sessionmaker=sessionmaker,
        inbox_model=BenchInbox,
        producer=producer,
        bootstrap_servers=bootstrap,
        batch_size=1000,
    )
    task = asyncio.create_task(runner.run())
    deadline = time.monotonic() + 600
    try:
        # Finished = every effect committed (a handler having run is not enough).
        while True:
            async with engine.connect() as conn:
                effects = (await conn.execute(text("SELECT count(*) FROM bench_effects"))).scalar()
            if effects >= n or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        finished = time.monotonic()
    finally:
        runner.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
    await engine.dispose()
    if effects != n:
        raise AssertionError(f"consumer wrote {effects} effects for {n} events")
    assert first_at is not None
    return n / (finished - first_at)


async def run(env: dict[str, str], *, n: int, rounds: int) -> dict[str, Any]:
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    database_url = env["BENCH_DATABASE_URL"]
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()

    results: dict[str, list[float]] = {"raw": [], "outbox": [], "consumer": []}
    # Interleave the three measurements so that a noisy neighbour hurts all of them alike.
    for _ in range(rounds):
        results["raw"].append(await raw_rate(bootstrap, n))
        results["outbox"].append(await outbox_rate(bootstrap, database_url, n))
        results["consumer"].append(await consumer_rate(bootstrap, database_url, n))
    best = {k: max(v) for k, v in results.items()}
    return {
        "events_per_round": n,
        "rounds": rounds,
        "rates_per_s": results,
        "best_per_s": best,
        "ratio_to_raw": {k: best[k] / best["raw"] for k in ("outbox", "consumer")},
        "goal": "outbox and consumer each >= 0.30 of raw per partition",
    }
