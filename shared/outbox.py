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
from typing import Any, cast
from uuid import UUID

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry.trace import SpanKind
from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    String,
    Text,
    any_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared import metrics
from shared.envelope import Envelope
from shared.events import EventPayload, topic_for
from shared.tracing import current_traceparent, recorded, span_from
from shared.unit_of_work import unit_of

log = logging.getLogger(__name__)

# The partitioner `AIOKafkaProducer.send` uses unless told otherwise (every service's producer,
# shared/kafka/producer.py): murmur2 of the key, as the Java client, so a key's partition does not
# depend on which of the two ways its event was sent.
_PARTITIONER = DefaultPartitioner()


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
    kwargs: dict[str, Any] = {"payload": payload, "source": source, "subject": subject}
    if ce_id is not None:
        kwargs["id"] = ce_id
    if time is not None:
        kwargs["time"] = time
    envelope = Envelope(**kwargs)
    return envelope, {
        "ce_id": envelope.id,
        "ce_type": envelope.type,
        "ce_source": envelope.source,
        "ce_time": envelope.time,
        "ce_subject": envelope.subject,
        "topic": topic_for(payload).name,
        "key": envelope.key,
        "traceparent": current_traceparent(),
    }


def _headers(row: Any, traceparent: str | None) -> list[tuple[str, bytes]]:
    """The CloudEvents headers of an outbox row read by the relay (its `ce_id` as text)."""
    headers = [
        ("ce_id", row.ce_id.encode()),
        ("ce_source", row.ce_source.encode()),
        ("ce_type", row.ce_type.encode()),
        ("ce_specversion", b"1.0"),
        ("ce_time", row.ce_time.isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    if row.ce_subject:
        headers.append(("ce_subject", row.ce_subject.encode()))
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
        # A round's statements, built once: building them per round (the function call, the
        # labels, the clauses) was a tenth of the relay's own time, for the same SQL each time.
        model = outbox_model
        self._try_lock = select(func.pg_try_advisory_xact_lock(self._lock_key))
        # Plain rows, not ORM objects: nothing here changes a row but its mark. The payload and
        # id come as PostgreSQL's text, which is what the message carries, instead of decoding
        # the JSONB document into dicts and encoding it again per row.
        self._claim = (
            select(
                model.id,
                model.ce_id.cast(Text).label("ce_id"),
                model.ce_type,
                model.ce_source,
                model.ce_time,
                model.ce_subject,
                model.topic,
                model.key,
                model.payload.cast(Text).label("payload"),
                model.created_at,
                model.traceparent,
            )
            .where(model.published_at.is_(None))
            .order_by(model.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        # One array parameter, not an expanded `IN (...)` list: the statement's text is the
        # same for every batch, so it is compiled once and stays prepared. Marked by id, never
        # by range: a row that committed after the read, with an id inside the batch's, was not
        # sent. No ORM object of these rows is in the session to keep in step (by default
        # SQLAlchemy fetches every marked id back to look for one).
        self._mark = (
            update(model)
            .where(model.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
            .values(published_at=func.now())
            .execution_options(synchronize_session=False)
        )
        self._count_unpublished = (
            select(func.count()).select_from(model).where(model.published_at.is_(None))
        )

    def wake(self) -> None:
        """Tell an idle relay that new rows were committed (saves a poll interval of latency)."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            # Cleared before the round, not after: a wake-up arriving while it runs (rows
            # committed after its read) starts another round instead of being lost.
            self._wake.clear()
            try:
                published = await self.publish_batch()
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

    async def publish_batch(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            got_lock = await session.scalar(self._try_lock)
            self._lock_missed = not got_lock
            if not got_lock:
                return 0
            rows = (await session.execute(self._claim)).all()
            await self._export_backlog(session, rows)
            if not rows:
                return 0
            if recorded(self.service):
                futures = [await self._send(row) for row in rows]
            else:
                futures = await self._send_batches(rows)
            await asyncio.gather(*futures)
            await session.execute(self._mark, {"ids": [row.id for row in rows]})
        for topic, count in Counter(row.topic for row in rows).items():
            metrics.OUTBOX_PUBLISHED.labels(self.service, self.topic_prefix + topic).inc(count)
        return len(rows)

    async def _send_batches(self, rows: Any) -> list[Any]:
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
            topic = self.topic_prefix + row.topic
            if topic not in partitions:
                partitions[topic] = sorted(await producer.partitions_for(topic))
            key = row.key.encode()
            partition = _PARTITIONER(key, partitions[topic], partitions[topic])
            batches = builders.setdefault((topic, partition), [producer.create_batch()])
            message = {
                "timestamp": None,
                "key": key,
                "value": row.payload.encode(),
                "headers": _headers(row, row.traceparent),
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

    async def _send(self, row: Any) -> Any:
        """Hand one row to the producer inside a PRODUCER span that continues the row's trace,
        whose context travels with the message as `ce_traceparent` (only while someone records
        spans, `tracing.recorded`)."""
        topic = self.topic_prefix + row.topic
        with span_from(
            self.service,
            f"publish {topic}",
            row.traceparent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": topic,
                "messaging.message.id": row.ce_id,
                "cloudevents.event_type": row.ce_type,
            },
        ):
            return await self.producer.send(
                topic,
                value=row.payload.encode(),
                key=row.key.encode(),
                headers=_headers(row, current_traceparent()),
            )

    async def _export_backlog(self, session: AsyncSession, rows: Any) -> None:
        if len(rows) < self.batch_size:
            backlog = len(rows)
        else:
            backlog = await session.scalar(self._count_unpublished) or 0
        metrics.OUTBOX_BACKLOG.labels(self.service).set(backlog)
        oldest = rows[0].created_at if rows else None
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(max(age, 0.0))
