"""The outbox relay on the real PostgreSQL and Kafka: what it publishes (the recorded document,
the CloudEvents headers, the row's trace), what it marks, and what one round costs the database.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase

from shared import tracing
from shared.db import make_engine, make_sessionmaker
from shared.events import ReturnInitiated
from shared.kafka.admin import ensure_topics
from shared.outbox import OutboxMixin, OutboxRelay, outbox_row
from tests.conftest import Harness

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Base(DeclarativeBase):
    pass


class RelayOutbox(OutboxMixin, Base):
    __tablename__ = "relay_outbox"


def _opened(rid: str) -> ReturnInitiated:
    return ReturnInitiated(
        return_id=rid,
        order_id=f"O-{rid}",
        seller_id="S-1",
        buyer_id="B-1",
        category="electronics",
        item_value=123_456,
        qc_required=False,
        partner_id="swiftship",
        awb=f"AWB-{rid}",
        initiated_at=datetime(2026, 11, 24, 10, tzinfo=UTC) + timedelta(minutes=1),
    )


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements with parameters sent meanwhile by the current task: those SQLAlchemy
    executes on `engine`, and those sent to asyncpg itself (the relay's, `Connection._execute`;
    SQLAlchemy's own run prepared statements and never pass it, so none is counted twice).
    BEGIN and COMMIT are neither. The patch is process-wide, and the services other tests
    started keep running their own relays in tasks of their own: only this task's count."""
    seen: list[str] = []
    mine: contextvars.ContextVar[bool] = contextvars.ContextVar("mine", default=False)

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    original = asyncpg.Connection._execute

    async def driven(conn: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if mine.get():
            seen.append(query)
        return await original(conn, query, *args, **kwargs)

    token = mine.set(True)
    event.listen(engine.sync_engine, "before_cursor_execute", note)
    asyncpg.Connection._execute = driven  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        asyncpg.Connection._execute = original  # type: ignore[method-assign]
        event.remove(engine.sync_engine, "before_cursor_execute", note)
        mine.reset(token)


async def _setup(harness: Harness) -> tuple[AsyncEngine, str, AIOKafkaProducer]:
    db = f"test_outbox_relay_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)  # type: ignore[attr-defined]
    engine = make_engine(harness.stack.postgres.database_url(db))  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    topic = f"test.relay.{uuid.uuid4().hex[:8]}"
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    await ensure_topics(bootstrap, partitions=3, names=[topic])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    return engine, topic, producer


async def _record(engine: AsyncEngine, topic: str, rids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for rid in rids:
        _, row = outbox_row(_opened(rid), source="test", subject=rid)
        rows.append({**row, "topic": topic, "traceparent": TRACEPARENT})
    async with engine.begin() as conn:
        await conn.execute(insert(RelayOutbox), rows)
    return rows


async def _record_worded(engine: AsyncEngine, topic: str, rids: list[str]) -> list[dict[str, Any]]:
    """As `_record`, each document with a member in words beyond ASCII (as a decision's
    explanation has: the relay publishes documents as stored, whatever their members)."""
    rows = []
    for rid in rids:
        _, row = outbox_row(_opened(rid), source="test", subject=rid)
        row["payload"]["wording"] = f"₹2,499 for Zoë ({rid})"
        rows.append({**row, "topic": topic, "traceparent": TRACEPARENT})
    async with engine.begin() as conn:
        await conn.execute(insert(RelayOutbox), rows)
    return rows


async def _consume(bootstrap: str, topic: str, n: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        got: list[Any] = []
        async with asyncio.timeout(30):
            while len(got) < n:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    got.extend(records)
        return got
    finally:
        await consumer.stop()


def _relay(engine: AsyncEngine, producer: AIOKafkaProducer, service: str) -> OutboxRelay:
    return OutboxRelay(
        service=service,
        sessionmaker=make_sessionmaker(engine),
        outbox_model=RelayOutbox,
        producer=producer,
    )


async def test_the_relay_publishes_the_recorded_document_and_passes_the_trace_on(
    harness: Harness,
) -> None:
    engine, topic, producer = await _setup(harness)
    try:
        rows = await _record(engine, topic, ["R-1", "R-2", "R-3"])
        relay = _relay(engine, producer, f"relay-test-{uuid.uuid4().hex[:6]}")
        assert not tracing.recorded(relay.service)  # no exporter, no listener
        assert await relay.publish_batch() == 3
        assert await relay.publish_batch() == 0
        got = await _consume(harness.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 3)
    finally:
        await producer.stop()
    by_id = {dict(r.headers)["ce_id"].decode(): r for r in got}
    for row in rows:
        record = by_id[str(row["ce_id"])]
        headers = {k: v.decode() for k, v in record.headers}
        # The document as recorded (PostgreSQL's text of it: same data, its own spacing).
        assert json.loads(record.value) == row["payload"]
        assert ReturnInitiated.model_validate_json(record.value) == _opened(row["key"])
        assert record.key == row["key"].encode()
        assert headers["ce_type"] == row["ce_type"]
        assert headers["ce_source"] == "test"
        assert headers["ce_subject"] == row["key"]
        assert datetime.fromisoformat(headers["ce_time"]) == row["ce_time"]
        # No span is recorded anywhere, so none is made: the row's own context travels on.
        assert headers["ce_traceparent"] == TRACEPARENT
    async with engine.connect() as conn:
        unpublished = await conn.scalar(
            text("SELECT count(*) FROM relay_outbox WHERE published_at IS NULL")
        )
    assert unpublished == 0
    await engine.dispose()


async def test_with_a_listener_each_message_continues_the_trace_in_a_producer_span(
    harness: Harness,
) -> None:
    engine, topic, producer = await _setup(harness)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    tracing.add_listener(processor)
    try:
        await _record(engine, topic, ["R-1", "R-2"])
        relay = _relay(engine, producer, "relay-test")
        assert tracing.recorded("relay-test")
        assert await relay.publish_batch() == 2
        got = await _consume(harness.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 2)
    finally:
        tracing.remove_listener(processor)
        await producer.stop()
        await engine.dispose()
    spans = {
        format(s.context.span_id, "016x"): s
        for s in exporter.get_finished_spans()
        if s.kind is SpanKind.PRODUCER and s.name == f"publish {topic}"
    }
    assert len(spans) == 2
    for record in got:
        sent = dict(record.headers)["ce_traceparent"].decode()
        version, trace_id, span_id, _ = sent.split("-")
        assert trace_id == TRACEPARENT.split("-")[1]
        span = spans[span_id]
        assert span.parent is not None and format(span.parent.span_id, "016x") == "b7ad6b7169203331"


async def test_a_round_marks_what_it_sent_with_one_statement_text_whatever_its_size(
    harness: Harness,
) -> None:
    """The published marks are one UPDATE whose text does not depend on how many rows the
    round sent (one array parameter, not an `IN` list of one parameter per row), so it is
    compiled once and stays prepared; a row committed after the round read its batch, with an
    id between the batch's, is not marked."""
    engine, topic, producer = await _setup(harness)
    try:
        relay = _relay(engine, producer, "relay-test")
        marks: list[str] = []
        for rids in (["A-1"], ["B-1", "B-2", "B-3"]):
            await _record(engine, topic, rids)
            with _statements(engine) as seen:
                assert await relay.publish_batch() == len(rids)
            marks += [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
        assert len(marks) == 2 and marks[0] == marks[1]

        # An id reserved between the batch's two rows, its row committed while it publishes.
        await _record(engine, topic, ["C-0"])
        async with engine.connect() as conn:
            late_id = await conn.scalar(text("SELECT nextval('relay_outbox_id_seq')"))
        await _record(engine, topic, ["C-2"])
        original_send = producer.send_batch
        inserted = False

        async def send_then_commit_late_row(*args: Any, **kwargs: Any) -> Any:
            nonlocal inserted
            if not inserted:
                inserted = True
                _, row = outbox_row(_opened("C-1"), source="test")
                async with engine.begin() as conn:
                    await conn.execute(
                        insert(RelayOutbox),
                        [{**row, "id": late_id, "topic": topic}],
                    )
            return await original_send(*args, **kwargs)

        producer.send_batch = send_then_commit_late_row  # type: ignore[method-assign]
        # C-0 and C-2: C-1 was not committed when the round read its batch.
        assert await relay.publish_batch() == 2
        producer.send_batch = original_send  # type: ignore[method-assign]
        async with engine.connect() as conn:
            pending = (
                await conn.execute(text("SELECT key FROM relay_outbox WHERE published_at IS NULL"))
            ).all()
        assert [r[0] for r in pending] == ["C-1"]
        assert await relay.publish_batch() == 1
    finally:
        await producer.stop()
        await engine.dispose()


async def test_a_round_is_the_lock_with_its_claim_then_the_mark(harness: Harness) -> None:
    """The publishing lock and the claim are one statement (a round is BEGIN, that, the mark and
    COMMIT); while another transaction holds the lock, a round claims and marks nothing, leaves
    every row unlocked and unpublished, and says so (`_lock_missed`: it retries soon)."""
    engine, topic, producer = await _setup(harness)
    try:
        relay = _relay(engine, producer, "relay-lock-test")
        await _record(engine, topic, ["L-1", "L-2"])
        async with engine.connect() as other:
            await other.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": relay._lock_key}
            )  # held until `other` ends its transaction
            with _statements(engine) as seen:
                assert await relay.publish_batch() == 0
            assert relay._lock_missed
            assert len(seen) == 1 and "pg_try_advisory_xact_lock" in seen[0], seen
            # Nothing claimed: another transaction takes every row without waiting.
            locked = await other.execute(
                text("SELECT key FROM relay_outbox WHERE published_at IS NULL FOR UPDATE NOWAIT")
            )
            assert sorted(r[0] for r in locked) == ["L-1", "L-2"]
            await other.rollback()
        with _statements(engine) as seen:
            assert await relay.publish_batch() == 2
        assert not relay._lock_missed
        assert len(seen) == 2, seen
        assert "pg_try_advisory_xact_lock" in seen[0] and "FOR UPDATE SKIP LOCKED" in seen[0]
        assert seen[1].lstrip().upper().startswith("UPDATE")
        # The lock is taken once per round, by the claim's one-time filter reading its result.
        async with engine.connect() as conn:
            plan = "\n".join(
                row[0]
                for row in await conn.exec_driver_sql(
                    "EXPLAIN VERBOSE " + relay._lock_and_claim.replace("$1", "1").replace("$2", "9")
                )
            )
        assert plan.count("pg_try_advisory_xact_lock") == 1, plan
        # An empty round after it: the lock, no rows, nothing to mark.
        with _statements(engine) as seen:
            assert await relay.publish_batch() == 0
        assert not relay._lock_missed and len(seen) == 1
        assert len(await _consume(harness.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 2)) == 2
    finally:
        await producer.stop()
        await engine.dispose()


async def test_a_topic_prefix_sends_every_row_to_its_prefixed_topic_and_none_to_the_recorded_one(
    harness: Harness,
) -> None:
    """What a benchmark beside a live stack relies on (`outbox_topic_prefix`): the recorded
    topic receives nothing."""
    engine, topic, producer = await _setup(harness)
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    prefix = f"own.{uuid.uuid4().hex[:6]}."
    await ensure_topics(bootstrap, partitions=3, names=[prefix + topic])
    try:
        await _record(engine, topic, ["P-1", "P-2"])
        relay = OutboxRelay(
            service="relay-test",
            sessionmaker=make_sessionmaker(engine),
            outbox_model=RelayOutbox,
            producer=producer,
            topic_prefix=prefix,
        )
        assert await relay.publish_batch() == 2
        got = await _consume(bootstrap, prefix + topic, 2)
        assert sorted(r.key for r in got) == [b"P-1", b"P-2"]
        # The recorded topic stays empty: its end offsets are all 0.
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(3)]
            assert set((await consumer.end_offsets(partitions)).values()) == {0}
        finally:
            await consumer.stop()
    finally:
        await producer.stop()
        await engine.dispose()


async def test_the_claim_hands_each_payload_over_as_its_utf8_bytes(harness: Harness) -> None:
    """The claim reads each document as its UTF-8 bytes, which the message carries as they are:
    read as text, the driver decoded every document into a str only for the relay to encode it
    back (a decision's ₹ make that decoding slow). The bytes are the document's, non-ASCII
    characters included, in both of the relay's ways of sending (batches, and a span per row
    while someone records)."""
    engine, topic, producer = await _setup(harness)
    claimed: list[Any] = []
    original_fetch = asyncpg.Connection.fetch

    async def noted_fetch(conn: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        rows = await original_fetch(conn, query, *args, **kwargs)
        if "FOR UPDATE SKIP LOCKED" in query:
            claimed.extend(rows)
        return rows

    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    asyncpg.Connection.fetch = noted_fetch  # type: ignore[method-assign]
    try:
        recorded = await _record_worded(engine, topic, ["U-1", "U-2"])
        relay = _relay(engine, producer, f"relay-test-{uuid.uuid4().hex[:6]}")
        assert await relay.publish_batch() == 2
        tracing.add_listener(processor)  # now a span per row: the other way of sending
        try:
            recorded += await _record_worded(engine, topic, ["U-3"])
            assert await relay.publish_batch() == 1
        finally:
            tracing.remove_listener(processor)
        got = await _consume(harness.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 3)
    finally:
        asyncpg.Connection.fetch = original_fetch  # type: ignore[method-assign]
        await producer.stop()
        await engine.dispose()
    payloads = [row["payload"] for row in claimed if row["id"] is not None]
    assert len(payloads) == 3 and all(type(p) is bytes for p in payloads), payloads
    by_key = {r.key.decode(): r.value for r in got}
    for row in recorded:
        value = by_key[row["key"]]
        assert json.loads(value) == row["payload"]
        assert "₹2,499 for Zoë".encode() in value  # as UTF-8, not escaped
    assert len([s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]) == 1


async def test_a_round_sends_one_batch_per_partition_keeping_each_keys_order(
    harness: Harness,
) -> None:
    """aiokafka's per-message `send` (serialise, partition, append, a future per message) was
    most of the relay's cost: a round hands the producer one batch per partition instead, each
    in the rows' id order, so every key's events still arrive in the order they were recorded."""
    engine, topic, producer = await _setup(harness)
    sends, batches = 0, 0
    original_send, original_send_batch = producer.send, producer.send_batch

    async def counted_send(*args: Any, **kwargs: Any) -> Any:
        nonlocal sends
        sends += 1
        return await original_send(*args, **kwargs)

    async def counted_send_batch(*args: Any, **kwargs: Any) -> Any:
        nonlocal batches
        batches += 1
        return await original_send_batch(*args, **kwargs)

    producer.send = counted_send  # type: ignore[method-assign]
    producer.send_batch = counted_send_batch  # type: ignore[method-assign]
    try:
        keys = [f"K-{k}" for k in "abcdefgh"]
        recorded: list[dict[str, Any]] = []
        for _ in range(5):  # each key's five events interleaved with the others'
            recorded += await _record(engine, topic, keys)
        relay = _relay(engine, producer, f"relay-test-{uuid.uuid4().hex[:6]}")
        assert await relay.publish_batch() == 40
        got = await _consume(harness.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 40)
    finally:
        await producer.stop()
        await engine.dispose()
    assert sends == 0
    assert batches == len({r.partition for r in got}) <= 3
    for key in keys:
        sent = [str(r["ce_id"]) for r in recorded if r["key"] == key]
        arrived = [dict(r.headers)["ce_id"].decode() for r in got if r.key == key.encode()]
        assert arrived == sent
        assert len({r.partition for r in got if r.key == key.encode()}) == 1


async def test_rounds_due_at_once_share_one_pooled_connection_and_an_idle_relay_holds_none(
    harness: Harness,
) -> None:
    """Rows committed while a round publishes wake the relay again at once: that round goes on
    the same connection, checked out of the pool once for both (the checkout and return cost
    about as much as a round trip). Once nothing is due, the connection goes back before the relay
    waits."""
    engine, topic, producer = await _setup(harness)
    # The relay's own engine: the test records and reads through the other one meanwhile.
    relay_engine = make_engine(engine.url.render_as_string(hide_password=False))
    checkouts: list[int] = []

    def checked_out(*_: Any) -> None:
        checkouts.append(1)

    relay = OutboxRelay(
        service=f"relay-test-{uuid.uuid4().hex[:6]}",
        sessionmaker=make_sessionmaker(relay_engine),
        outbox_model=RelayOutbox,
        producer=producer,
        poll_interval_s=3600,  # no polling: only wake-ups start rounds
    )
    original_send = producer.send_batch
    later: list[dict[str, Any]] = []

    async def record_more_while_sending(*args: Any, **kwargs: Any) -> Any:
        if not later:  # the first round: rows committed meanwhile, and the wake-up they cause
            later.extend(await _record(engine, topic, ["W-2", "W-3"]))
            relay.wake()
        return await original_send(*args, **kwargs)

    producer.send_batch = record_more_while_sending  # type: ignore[method-assign]
    await _record(engine, topic, ["W-1"])
    pool = relay_engine.sync_engine.pool
    event.listen(pool, "checkout", checked_out)
    running = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(30):
            while True:
                async with engine.connect() as conn:
                    pending = await conn.scalar(
                        text("SELECT count(*) FROM relay_outbox WHERE published_at IS NULL")
                    )
                if later and pending == 0:
                    break
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # idle: the relay waits for a wake-up
        assert len(checkouts) == 1
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        event.remove(pool, "checkout", checked_out)
        relay.stop()
        await running
        await producer.stop()
        await relay_engine.dispose()
        await engine.dispose()
    got = await _consume(harness.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 3)
    assert sorted(r.key for r in got) == [b"W-1", b"W-2", b"W-3"]
