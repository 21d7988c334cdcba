"""The transactional outbox: events are written in the same transaction as the state they
describe, and one relay per service publishes them to Kafka afterwards.

A `2xx` or a committed consumer offset therefore never outruns the event it implies, and a crash
at any point leaves either both or neither.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from asyncpg import Connection, Record
from opentelemetry.trace import SpanKind
from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    String,
    Table,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared import metrics
from shared.envelope import Envelope
from shared.events import EventPayload, topic_for
from shared.pooled import driver_connection
from shared.tracing import current_traceparent, recorded, span_from
from shared.unit_of_work import unit_of

log = logging.getLogger(__name__)


@lru_cache(maxsize=16384)
def _key_hash(key: bytes) -> int:
    """The hash `DefaultPartitioner` (what `AIOKafkaProducer.send` uses unless told otherwise,
    every service's producer: shared/kafka/producer.py) maps a key to its partition by:
    murmur2, as the Java client, so a key's partition does not depend on which of the relay's
    two ways its event was sent. aiokafka's murmur2 is pure Python, about 11 µs a key, and a
    key recurs (a return's events, a decision's two case events), so recent keys' hashes are
    kept."""
    hashed: int = murmur2(key)
    return hashed & 0x7FFFFFFF


def partition_for(key: bytes, partitions: list[int]) -> int:
    """`DefaultPartitioner()(key, partitions, partitions)`, from the kept hash: `partitions`
    sorted, as the producer's metadata gives them."""
    return partitions[_key_hash(key) % len(partitions)]


class OutboxMixin:
    """Columns of a service's `outbox` table. Declare `class Outbox(OutboxMixin, Base)`."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), unique=True)
    ce_type: Mapped[str] = mapped_column(String(200))
    ce_source: Mapped[str] = mapped_column(String(200))
    ce_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ce_subject: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # W3C trace context of the span that recorded the event (the request or the consumed
    # event): the relay's publish span continues that trace (shared/tracing.py).
    traceparent: Mapped[str | None] = mapped_column(String(64))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # The relay only ever scans unpublished rows; a partial index keeps that scan small
        # however much history the table holds.
        return (
            Index(
                f"ix_{cls.__tablename__}_unpublished",
                "id",
                postgresql_where=text("published_at IS NULL"),
            ),
        )


def enqueue(
    session: AsyncSession,
    outbox_model: type[OutboxMixin],
    payload: EventPayload,
    *,
    source: str,
    subject: str | None = None,
    ce_id: UUID | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Record an event to be published once the caller's transaction commits.

    The `ce_id` is fixed here, when the fact is recorded, so every redelivery carries the same id.
    """
    envelope, row = outbox_row(payload, source=source, subject=subject, ce_id=ce_id, time=time)
    # The mixin has no constructor of its own; the mapped subclass the caller passes does.
    session.add(cast(Any, outbox_model)(**row))
    unit_of(session).enqueued = True  # its request wakes the relay once it has committed
    return envelope


def note_enqueued(session: AsyncSession) -> None:
    """For callers that insert `outbox_row`s themselves: the request that did so wakes the
    relay once it has committed, as after `enqueue`."""
    unit_of(session).enqueued = True


def took_enqueued(session: AsyncSession) -> bool:
    """Whether `enqueue` recorded an event in this session since the last call."""
    unit = unit_of(session)
    enqueued, unit.enqueued = unit.enqueued, False
    return enqueued


def outbox_row(
    payload: EventPayload,
    *,
    source: str,
    subject: str | None = None,
    ce_id: UUID | None = None,
    time: datetime | None = None,
) -> tuple[Envelope, dict[str, Any]]:
    """The envelope and the outbox row `enqueue` writes, for a caller that inserts many rows in
    one statement (`insert(Outbox.__table__)` in the same transaction, in the order given)."""
    envelope, row = outbox_envelope_columns(
        payload, source=source, subject=subject, ce_id=ce_id, time=time
    )
    # The JSON the relay publishes, as data: the same serialiser as `Envelope.value()`, without
    # encoding to text and parsing it back for every event.
    row["payload"] = payload.model_dump(mode="json")
    return envelope, row


def outbox_columns(
    payload: EventPayload,
    *,
    source: str,
    subject: str | None = None,
    ce_id: UUID | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """An outbox row's columns without its `payload`, for a caller that writes the rows and
    needs no `Envelope` (reconciliation's consumer batch, two rows a decision): building the
    frozen envelope only to read its fields back cost as much as the columns themselves."""
    return {
        "ce_id": uuid4() if ce_id is None else ce_id,
        "ce_type": payload.ce_type,
        "ce_source": source,
        "ce_time": datetime.now(UTC) if time is None else time,
        "ce_subject": subject,
        "topic": topic_for(payload).name,
        "key": payload.kafka_key(),
        "traceparent": current_traceparent(),
    }


def outbox_envelope_columns(
    payload: EventPayload,
    *,
    source: str,
    subject: str | None = None,
    ce_id: UUID | None = None,
    time: datetime | None = None,
) -> tuple[Envelope, dict[str, Any]]:
    """`outbox_row` without its `payload`, for a caller whose statement takes the document from
    a row it writes beside (intake's canonical events): the payload is serialised once."""
    row = outbox_columns(payload, source=source, subject=subject, ce_id=ce_id, time=time)
    envelope = Envelope(
        payload=payload, source=source, id=row["ce_id"], time=row["ce_time"], subject=subject
    )
    return envelope, row


def _headers(row: Record, traceparent: str | None) -> list[tuple[str, bytes]]:
    """The CloudEvents headers of an outbox row the relay claimed (its `ce_id` as text)."""
    headers = [
        ("ce_id", row["ce_id"].encode()),
        ("ce_source", row["ce_source"].encode()),
        ("ce_type", row["ce_type"].encode()),
        ("ce_specversion", b"1.0"),
        ("ce_time", row["ce_time"].isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    if row["ce_subject"]:
        headers.append(("ce_subject", row["ce_subject"].encode()))
    if traceparent:
        headers.append(("ce_traceparent", traceparent.encode()))
    return headers


class OutboxRelay:
    """Publishes unpublished outbox rows in id order.

    Rows are claimed with `FOR UPDATE SKIP LOCKED` under a transaction-scoped advisory lock: only
    one relay per service publishes at a time, which is what keeps each key's events in order
    when several replicas run. The rows are marked published only after Kafka acknowledged
    them, so a crash in between re-sends them (consumers deduplicate on `ce_id`).
    """

    # While another replica holds the publishing lock, try again this soon: it may have read
    # its batch before our rows committed.
    LOCK_RETRY_S = 0.05

    def __init__(
        self,
        *,
        service: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox_model: type[OutboxMixin],
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        poll_interval_s: float = 0.05,
        max_backoff_s: float = 10.0,
        topic_prefix: str = "",
    ) -> None:
        self.service = service
        self.sessionmaker = sessionmaker
        self.model = outbox_model
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        # Every row goes to `topic_prefix + row.topic` (ServiceSettings.outbox_topic_prefix).
        self.topic_prefix = topic_prefix
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"outbox:{service}".encode()).digest()[:8], "big", signed=True
        )
        self._wake = asyncio.Event()
        self._stopping = False
        self._lock_missed = False
        # The engine the sessionmaker is bound to: a round's statements go to asyncpg itself on
        # a connection of its pool (`shared.pooled`). Through the session each of a round's five
        # round trips (BEGIN, the lock, the claim, the mark, COMMIT) also ran SQLAlchemy's
        # execution in a greenlet of its own and wrapped its result: about as much of intake's
        # samples under webhooks as the driver's own work.
        engine = sessionmaker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the relay's sessionmaker must be bound to an AsyncEngine")
        self.engine = engine
        # A round's statements as text, fixed for the relay's life, so asyncpg prepares each once
        # per connection. The table is the service's own (`OutboxMixin`), its name ours.
        table = cast(Table, outbox_model.__table__)  # type: ignore[attr-defined]
        # The publishing lock and the claim in one statement: the claim runs only if the lock
        # was taken (a one-time filter on `locked.held`), and its first row says which. The lock
        # is a MATERIALIZED CTE: as a plain subquery the planner pulled it up and called the
        # function twice, in the row and in the filter. A replica that published and committed
        # after this statement's snapshot was taken, but before the lock was, left rows this
        # snapshot still sees unpublished: FOR UPDATE reads their latest version and
        # `published_at IS NULL` no longer holds, so they are skipped.
        # Plain rows; the payload and id come as PostgreSQL's text, which is what the message
        # carries, instead of decoding the JSONB document and encoding it again per row. The
        # payload comes as its UTF-8 bytes (`convert_to`: a bytea the driver hands over as it
        # reads it): as text the driver decoded every document into a str only for the relay to
        # encode it back, about 11 µs a row for a decision's case event (its ₹ make the
        # decoding slow).
        self._lock_and_claim = f"""
            WITH locked AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1) AS held)
            SELECT locked.held, claimed.*
            FROM locked
            LEFT JOIN LATERAL (
                SELECT id, ce_id::text AS ce_id, ce_type, ce_source, ce_time, ce_subject,
                       topic, key, convert_to(payload::text, 'UTF8') AS payload, created_at,
                       traceparent
                FROM {table.name}
                WHERE locked.held AND published_at IS NULL
                ORDER BY id
                LIMIT $2
                FOR UPDATE SKIP LOCKED
            ) AS claimed ON true
        """
        # One array parameter, not an `IN (...)` list: the text is the same for every batch.
        # Marked by id, never by range: a row that committed after the claim, with an id inside
        # the batch's, was not sent.
        self._mark = f"UPDATE {table.name} SET published_at = now() WHERE id = ANY($1::bigint[])"
        self._count_unpublished = f"SELECT count(*) FROM {table.name} WHERE published_at IS NULL"

    def wake(self) -> None:
        """Tell an idle relay that new rows were committed (saves a poll interval of latency)."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                published = await self._rounds_back_to_back()
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: keep the rows, count it, back off, retry
                metrics.OUTBOX_FAILURES.labels(self.service).inc()
                log.warning("outbox relay round failed, retrying in %.1fs: %r", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            if published < self.batch_size:
                idle = self.LOCK_RETRY_S if self._lock_missed else self.poll_interval_s
                try:
                    await asyncio.wait_for(self._wake.wait(), idle)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _rounds_back_to_back(self) -> int:
        """Rounds on one pooled connection for as long as the next is due at once (rows
        committed during the last, or a full batch left more); what the last one published.

        A busy process's commits wake the relay during nearly every round, and checking a
        connection out of the pool and back in (SQLAlchemy's pool, in greenlets) costs about
        as much as one of the round's round trips (`docs/cpu.md`). The connection goes back before
        the relay waits, so an idle relay holds none; a failure ends the run with it (the
        round's transaction rolled back, a connection in doubt invalidated)."""
        async with driver_connection(self.engine) as connection:
            while True:
                # Cleared before the round, not after: a wake-up arriving while it runs (rows
                # committed after its read) starts another round instead of being lost.
                self._wake.clear()
                published = await self._round(connection)
                if self._stopping or not (published >= self.batch_size or self._wake.is_set()):
                    return published

    async def publish_batch(self) -> int:
        """One round on a connection of its own."""
        async with driver_connection(self.engine) as connection:
            return await self._round(connection)

    async def _round(self, connection: Connection) -> int:
        # A round is four round trips: BEGIN, the lock with the claim, the mark, COMMIT. A
        # failure (PostgreSQL's or Kafka's) rolls it back, so nothing is marked that was not
        # acknowledged. Any failure but PostgreSQL refusing a statement gives the connection
        # back invalidated (`driver_connection`), a Kafka one too: one reconnect, in a round that
        # backs off anyway.
        async with connection.transaction():
            claimed = await connection.fetch(self._lock_and_claim, self._lock_key, self.batch_size)
            self._lock_missed = not claimed[0]["held"]
            if self._lock_missed:
                return 0
            rows = [row for row in claimed if row["id"] is not None]
            await self._export_backlog(connection, rows)
            if not rows:
                return 0
            if recorded(self.service):
                futures = [await self._send(row) for row in rows]
            else:
                futures = await self._send_batches(rows)
            await asyncio.gather(*futures)
            await connection.execute(self._mark, [row["id"] for row in rows])
        for topic, count in Counter(row["topic"] for row in rows).items():
            metrics.OUTBOX_PUBLISHED.labels(self.service, self.topic_prefix + topic).inc(count)
        return len(rows)

    async def _send_batches(self, rows: list[Record]) -> list[Any]:
        """Hand the round's rows to the producer as one batch per partition (more when one
        fills up), instead of a `send` per row, whose serialising, partitioning and future per
        message were most of the relay's cost. The partition is the one `send` would choose
        (aiokafka's default partitioner over the key), and each partition's rows go in id
        order, batch after batch: the producer keeps one batch per partition in flight, so
        every key's events arrive in the order they were recorded. The row's own trace context
        travels on unchanged (nobody records a span)."""
        producer = self.producer
        partitions: dict[str, list[int]] = {}
        builders: dict[tuple[str, int], list[Any]] = {}
        for row in rows:
            topic = self.topic_prefix + row["topic"]
            if topic not in partitions:
                partitions[topic] = sorted(await producer.partitions_for(topic))
            key = row["key"].encode()
            partition = partition_for(key, partitions[topic])
            batches = builders.setdefault((topic, partition), [producer.create_batch()])
            message = {
                "timestamp": None,
                "key": key,
                "value": row["payload"],
                "headers": _headers(row, row["traceparent"]),
            }
            if batches[-1].append(**message) is None:  # full: the next batch takes it
                batches.append(producer.create_batch())
                batches[-1].append(**message)  # the first message always fits
        futures = []
        for (topic, partition), batches in builders.items():
            for batch in batches:
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=partition))
        return futures

    async def _send(self, row: Record) -> Any:
        """Hand one row to the producer inside a PRODUCER span that continues the row's trace,
        whose context travels with the message as `ce_traceparent` (only while someone records
        spans, `tracing.recorded`)."""
        topic = self.topic_prefix + row["topic"]
        with span_from(
            self.service,
            f"publish {topic}",
            row["traceparent"],
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": topic,
                "messaging.message.id": row["ce_id"],
                "cloudevents.event_type": row["ce_type"],
            },
        ):
            return await self.producer.send(
                topic,
                value=row["payload"],
                key=row["key"].encode(),
                headers=_headers(row, current_traceparent()),
            )

    async def _export_backlog(self, connection: Connection, rows: list[Record]) -> None:
        if len(rows) < self.batch_size:
            backlog = len(rows)
        else:
            backlog = await connection.fetchval(self._count_unpublished) or 0
        metrics.OUTBOX_BACKLOG.labels(self.service).set(backlog)
        oldest = rows[0]["created_at"] if rows else None
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(max(age, 0.0))
