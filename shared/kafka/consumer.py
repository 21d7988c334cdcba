"""The one consumer runner: typed handlers, exactly-once effects, retries and a dead-letter topic.

For every poll (a batch: the poll's records of every topic and partition, each partition's in
order, one topic's after another's):
1. messages are decoded into envelopes; one that is not a valid event goes to `<topic>.dlq`,
   once: having no `ce_id`, it is known again by its place in the log (`_undecodable_id`);
2. in one database transaction the batch's `ce_id`s are inserted into the inbox (duplicates are
   skipped) and each new event's handler runs;
3. the transaction commits; the partitions' Kafka offsets are committed after it, at most once
   every `COMMIT_INTERVAL_S` (and when partitions are revoked or the runner stops).

A crash between 3's two steps redelivers what was handled since the last offset commit; the
inbox makes that a no-op. A service may
register a batch handler (`@handlers.on_batch`) that receives a batch's new events at once (each
partition's in partition order), so it can read and write set-wise; it must leave the same
effects as calling the per-event handlers one after the other, because those are what the
per-message fallback runs. If a handler fails, the batch is re-run one message per transaction
so that only the poison message is dead-lettered. Transient failures (database or network down)
are retried with backoff, forever: dead-lettering a good event because the database restarted
would lose it.

Event types a service expedites (`handlers.expedite`) go first: the poll's events of their keys
are a batch of their own, handled and committed before the rest of the poll; a partition's
offsets move once both are. An expedited type may be narrowed by its payload
(`expedite(FraudAssessed, when=...)`): only the events someone waits on go ahead, so the first
batch stays small when the type is also the bulk of the stream.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid5

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import TextualSelect, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.envelope import Envelope, EnvelopeError, decode_envelope, header_map
from shared.events import MODEL_OF_TYPE, EventPayload, UnknownEventType
from shared.inbox import InboxMixin
from shared.logging import HANDLED_EVENT
from shared.outbox import took_enqueued
from shared.tracing import continuing, recorded, span_from
from shared.transient import PermanentError, is_transient
from shared.unit_of_work import UnitOfWork, unit_of

log = logging.getLogger(__name__)

E = TypeVar("E", bound=EventPayload)


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a handler gets besides its event: the open transaction, its unit of work (typed
    per-batch state) and the envelope."""

    session: AsyncSession
    envelope: Envelope
    topic: str
    # The consuming service: names the tracer of the event's span (shared/tracing.py).
    service: str = "disputedesk"

    @property
    def ce_id(self) -> Any:
        return self.envelope.id

    @property
    def unit(self) -> UnitOfWork:
        """The transaction's unit of work, shared by every event of the batch."""
        return unit_of(self.session)


Handler = Callable[[Any, HandlerContext], Awaitable[None]]
# Receives the contexts of a batch's new events, each partition's in partition order (one shared
# session).
BatchHandler = Callable[[list[HandlerContext]], Awaitable[None]]


class EventHandlers:
    """Maps payload models to handlers: `@handlers.on(SellerEscalationFiled)`.

    An event of a known type with no handler is acknowledged and skipped before it is even
    validated (no inbox row: there is no effect to guard), so a topic can carry types this
    service does not care about. A batch handler sees only the types that have a handler.
    """

    def __init__(self) -> None:
        self._by_type: dict[str, Handler] = {}
        self._acts: dict[str, Callable[[Any], bool]] = {}
        self.batch_handler: BatchHandler | None = None
        self.expedited: frozenset[str] = frozenset()
        # Expedited types narrowed by their payload (`expedite(..., when=...)`).
        self._expedited_when: dict[str, Callable[[Any], bool]] = {}

    def on(
        self, model: type[E], *, acts_on: Callable[[E], bool] | None = None
    ) -> Callable[[Callable[[E, HandlerContext], Awaitable[None]]], Any]:
        """Register the handler of `model`. `acts_on`, when given, says from the event alone
        whether the handler would do anything with it: an event it says no to is skipped
        after validation like a type without a handler (no transaction, no inbox row), so it
        must be False only when the handler would neither write nor publish anything."""

        def register(fn: Callable[[E, HandlerContext], Awaitable[None]]) -> Any:
            self._by_type[model.ce_type] = fn
            if acts_on is not None:
                self._acts[model.ce_type] = acts_on
            return fn

        return register

    def acts_on(self, envelope: Envelope) -> bool:
        """Whether this event's handler would do anything with it (see `on`)."""
        if envelope.type not in self._by_type:
            return False
        acts = self._acts.get(envelope.type)
        return acts is None or acts(envelope.payload)

    def on_batch(self, fn: BatchHandler) -> BatchHandler:
        """Handle a whole batch in one call (optional). A batch that fails is re-run one event
        per transaction through the per-event handlers, which isolates a poison message."""
        self.batch_handler = fn
        return fn

    def expedite(
        self, *models: type[EventPayload], when: Callable[[Any], bool] | None = None
    ) -> None:
        """Handle these events ahead of the rest of their poll: they and the other events of
        their keys in that poll (in partition order) are a batch committed first. Whoever
        waits on their effects (an escalation's fraud assessment) does not wait for a backlog
        of unrelated events; per key the order is kept, across keys it is not, as it never is
        across partitions. `when`, if given, says from the payload which of these events go
        ahead (reconciliation's assessments of claims, not those of every scan): an event of
        an expedited type for which it says no waits its turn like any other."""
        self.expedited = self.expedited | {m.ce_type for m in models}
        if when is not None:
            for m in models:
                self._expedited_when[m.ce_type] = when

    def expedites(self, envelope: Envelope) -> bool:
        """Whether this event goes ahead of the rest of its poll (see `expedite`)."""
        if envelope.type not in self.expedited:
            return False
        when = self._expedited_when.get(envelope.type)
        return when is None or when(envelope.payload)

    def expedites_by_type(self, ce_type: str | None) -> bool | None:
        """From the `ce_type` header alone: True or False when the type decides, None when the
        payload does (`expedite(..., when=...)`)."""
        if ce_type not in self.expedited:
            return False
        return None if ce_type in self._expedited_when else True

    def handler_for(self, ce_type: str) -> Handler | None:
        return self._by_type.get(ce_type)

    async def dispatch(self, ctx: HandlerContext) -> None:
        """Run the per-event handler of one event (nothing when its type has none)."""
        envelope = ctx.envelope
        handler = self.handler_for(envelope.type)
        if handler is None:
            return
        # The event names every line the handler logs (`shared.logging.add_handled_event`, at
        # the line's writing, not here), and it runs in the publisher's trace: what it enqueues
        # or logs belongs to that trace (batch handlers dispatch each event through here too).
        # A CONSUMER span only when someone records it; otherwise the publisher's context alone,
        # which keeps the trace as well.
        handled = HANDLED_EVENT.set(envelope)
        try:
            if recorded(ctx.service):
                with span_from(
                    ctx.service,
                    f"consume {envelope.type}",
                    envelope.traceparent,
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.source.name": ctx.topic,
                        "messaging.message.id": str(envelope.id),
                        "cloudevents.event_type": envelope.type,
                    },
                ):
                    await handler(envelope.payload, ctx)
            else:
                with continuing(envelope.traceparent):
                    await handler(envelope.payload, ctx)
        finally:
            HANDLED_EVENT.reset(handled)


@dataclass(slots=True)
class _Decoded:
    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope | None
    error: str | None


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.runner.commit_pending()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class ConsumerRunner:
    LAG_EXPORT_INTERVAL_S = 1.0
    # Read anyway after this long: a position can move with nothing handed out (a transaction
    # marker, a compacted gap), and a gauge should not stay stale for long on that account.
    LAG_REFRESH_S = 30.0
    # How long an empty poll waits for records. Records end the wait at once, so this only
    # sets how often an idle consumer's loop turns (commits, the lag gauge): once a second.
    POLL_TIMEOUT_MS = 1000
    # How long the broker holds a fetch that finds no records: aiokafka's default is 500 ms,
    # so an idle consumer's fetch came back empty twice a second, half of the broker's
    # requests at the benchmark's ×1 step. Records end the wait at once (fetch_min_bytes is
    # 1), but not always for every partition: a fetch sent while the runner still holds one
    # partition's records leaves that partition out, and its next record waits for the held
    # fetch to come back; so does an offsets request on the same connection (fraud's read of
    # the other replicas' marks) and the first fetch after a rebalance. A second bounds that
    # wait and still halves the idle fetches.
    FETCH_MAX_WAIT_MS = 1000
    # Offsets are committed at most this often: an OffsetCommit per poll was a quarter of the
    # broker's requests and most of its group coordinator's CPU. Nothing handled is lost or
    # handled twice by waiting (the transaction committed, the inbox skips a redelivery); a
    # crash redelivers up to this much more, and whoever reads the committed offsets (the lag
    # in a benchmark or drill, fraud's other replicas reading its marks) sees them this late.
    COMMIT_INTERVAL_S = 1.0

    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        topics: list[str],
        handlers: EventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
        inbox_model: type[InboxMixin],
        producer: AIOKafkaProducer,
        bootstrap_servers: str,
        batch_size: int = 500,
        max_backoff_s: float = 30.0,
        on_committed: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.group_id = group_id
        self.topics = topics
        self.handlers = handlers
        self.sessionmaker = sessionmaker
        self.inbox = inbox_model
        self.producer = producer
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.max_backoff_s = max_backoff_s
        # Called after a transaction whose handlers enqueued events commits (the outbox relay's
        # wake; `shared.outbox.took_enqueued`).
        self.on_committed = on_committed
        self.consumer: AIOKafkaConsumer | None = None
        self._claim_statement: TextualSelect | None = None
        self._pending: dict[TopicPartition, int] = {}
        # When the oldest offset waiting in `_pending` was handled (loop time); see commit_if_due.
        self._pending_since: float | None = None
        self._stopping = False
        self._lag_exported_at = float("-inf")
        # What the lag was last exported from; see export_lag_if_due.
        self._lag_exported_from: tuple[object, ...] | None = None
        self._lag_read_at = float("-inf")
        # Bumped whenever a partition's position moves (records handed out to be handled).
        self._position_moves = 0
        self.ready = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until stopped; reconnects with backoff when the broker is away."""
        backoff = 0.5
        while not self._stopping:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                client_id=f"{self.service}-{self.group_id}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                max_poll_records=self.batch_size,
                session_timeout_ms=30_000,
                heartbeat_interval_ms=3_000,
                metadata_max_age_ms=30_000,
                fetch_max_wait_ms=self.FETCH_MAX_WAIT_MS,
                # Bigger fetches mean bigger batches per transaction when a backlog builds up.
                max_partition_fetch_bytes=4 * 1024 * 1024,
            )
            try:
                await consumer.start()
                consumer.subscribe(self.topics, listener=_CommitOnRevoke(self))
                self.consumer = consumer
                self.ready.set()
                backoff = 0.5
                await self._poll_loop(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "consumer %s failed, reconnecting in %.1fs: %r", self.group_id, backoff, exc
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            finally:
                try:
                    if self._stopping and self._pending:
                        # Stopping: what was handled since the last commit is not handed out
                        # again at the next start (the inbox would skip it, after reading it).
                        try:
                            await asyncio.wait_for(self.commit_pending(), 5)
                        except Exception:  # the broker away, the group rebalancing: redelivered
                            log.debug("offset commit on stop failed", exc_info=True)
                finally:
                    # Whatever the commit did (a cancellation included), the consumer leaves
                    # the group: one left behind keeps its partitions until its session ends.
                    self.consumer = None
                    try:
                        # Bounded: a group coordinator that never answers the leave must not
                        # hold the service's stop (its session expires on the broker anyway).
                        await asyncio.wait_for(consumer.stop(), 15)
                    except Exception:  # being discarded; a failed close changes nothing
                        log.debug("consumer stop failed", exc_info=True)

    def stop(self) -> None:
        self._stopping = True

    async def _poll_loop(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping:
            batches = await consumer.getmany(
                timeout_ms=self.poll_timeout_ms(), max_records=self.batch_size
            )
            await self._handle_poll(batches)
            now = asyncio.get_running_loop().time()
            await self.commit_if_due(now)
            await self.export_lag_if_due(consumer, now=now)

    def poll_timeout_ms(self) -> int:
        """How long an empty poll may wait: POLL_TIMEOUT_MS, or less when offsets wait to be
        committed, so that an idle consumer commits them when due rather than a poll later."""
        if self._pending_since is None:
            return self.POLL_TIMEOUT_MS
        due_in = self._pending_since + self.COMMIT_INTERVAL_S - asyncio.get_running_loop().time()
        return max(0, min(self.POLL_TIMEOUT_MS, int(due_in * 1000) + 1))

    async def commit_if_due(self, now: float) -> None:
        """Commit the offsets handled so far once the oldest of them has waited
        COMMIT_INTERVAL_S: one OffsetCommit a second under load instead of one per poll."""
        if not self._pending:
            self._pending_since = None
            return
        if self._pending_since is None:
            self._pending_since = now
        if now - self._pending_since >= self.COMMIT_INTERVAL_S:
            await self.commit_pending()

    async def commit_pending(self) -> None:
        """Commit every offset handled so far, now (see commit_if_due for the loop's cadence)."""
        if not self._pending or self.consumer is None:
            return
        offsets, self._pending = self._pending, {}
        self._pending_since = None
        # A partition taken away while its records were handled is another consumer's now: it
        # redelivers from the committed offset (the inbox skips what was handled), and
        # committing it here would fail the whole commit and rebuild this consumer.
        assigned = self.consumer.assignment()
        offsets = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if offsets:
            await self.consumer.commit(
                {tp: (offset, self.offset_metadata(tp)) for tp, offset in offsets.items()}
            )

    def offset_metadata(self, tp: TopicPartition) -> str:
        """What is committed with a partition's offset, for whoever resumes it (this runner
        restarted, another replica after a rebalance): nothing by default. Fraud's read-ahead
        keeps how far it has counted there (services/fraud/scoring/consumer.py)."""
        return ""

    async def export_lag_if_due(self, consumer: AIOKafkaConsumer, *, now: float) -> None:
        """The lag gauge, at most once per LAG_EXPORT_INTERVAL_S: a gauge scraped every few
        seconds needs no fresher value, and under load polls return every few milliseconds.
        And only when it can have changed: the same partitions, ends and positions give the
        same lag. Idle, reading every partition's position each second (a task and a timer
        apiece) was most of what an idle service's event loop ran."""
        if now - self._lag_exported_at < self.LAG_EXPORT_INTERVAL_S:
            return
        self._lag_exported_at = now
        source = (
            self._position_moves,
            tuple(sorted((tp, consumer.highwater(tp)) for tp in consumer.assignment())),
        )
        if source == self._lag_exported_from and now - self._lag_read_at < self.LAG_REFRESH_S:
            return
        self._lag_read_at = now
        # A position that could not be read is read again at the next export, not in 30 s.
        self._lag_exported_from = source if await self._export_lag(consumer) else None

    async def _export_lag(self, consumer: AIOKafkaConsumer) -> bool:
        """Sets the gauge per partition; true when every partition's lag could be read."""
        complete = True
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:  # not fetched yet: its first end changes the source
                continue
            try:
                position = await asyncio.wait_for(consumer.position(tp), 0.5)
            except Exception:  # revoked in between, or no position yet: nothing to report
                complete = False
                continue
            metrics.CONSUMER_LAG.labels(
                self.service, tp.topic, str(tp.partition), self.group_id
            ).set(max(highwater - position, 0))
        return complete

    # -- one poll: per topic, expedited keys first, then the rest ---------------------------

    async def _handle_poll(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        """A poll's records in one transaction, every topic's and partition's together: a
        transaction costs the same for ten events as for a hundred, and topics and partitions
        only multiply them (with a transaction per topic, fraud's case events came 1.4 to a
        transaction at the e2e's x0.5, reconciliation's deliveries 3.9). The expedited keys of
        every topic go first, in a transaction of their own: what waits on them (a case's
        decision on its fraud assessment) does not wait for another topic's backlog. Records
        are decoded once, before the split, since an expedited type may be narrowed by its
        payload."""
        by_topic: dict[str, list[tuple[TopicPartition, list[ConsumerRecord[bytes, bytes]]]]] = {}
        for tp, records in batches.items():
            if records:
                by_topic.setdefault(tp.topic, []).append((tp, records))
                self._position_moves += 1
        first: list[_Decoded] = []
        rest: list[_Decoded] = []
        for topic, parts in by_topic.items():
            for _, records in parts:
                expedited, others = self._expedited(self._decode_wanted(topic, records))
                first.extend(expedited)
                rest.extend(others)
        # Each topic's records stay together, in the order topics were first polled: the
        # order the transactions per topic handled them in.
        for stage in (first, rest):
            if stage:
                await self._handle_decoded(stage)
        for parts in by_topic.values():
            for tp, records in parts:
                self._pending[tp] = records[-1].offset + 1

    def _expedited(self, decoded: list[_Decoded]) -> tuple[list[_Decoded], list[_Decoded]]:
        """(the records of keys with an expedited event, the others), each in partition order."""
        if not self.handlers.expedited:
            return [], decoded
        keys = {
            d.record.key
            for d in decoded
            if d.envelope is not None and self.handlers.expedites(d.envelope)
        }
        if not keys:
            return [], decoded
        return (
            [d for d in decoded if d.record.key in keys],
            [d for d in decoded if d.record.key not in keys],
        )

    def _expedites_record(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Whether a record not decoded yet is of an expedited event: from its `ce_type` header,
        decoding it only when the payload decides (a runner that sorts records before
        handling them, as fraud's read-ahead does)."""
        by_type = self.handlers.expedites_by_type(header_map(record.headers or ()).get("ce_type"))
        if by_type is not None:
            return by_type
        envelope = self._decode(record).envelope
        return envelope is not None and self.handlers.expedites(envelope)

    async def _handle_records(
        self, topic: str, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        await self._handle_decoded(self._decode_wanted(topic, records))

    def _decode_wanted(
        self, topic: str, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[_Decoded]:
        """The records this service handles, decoded (see `_wanted`)."""
        wanted = [r for r in records if self._wanted(r)]
        if len(wanted) < len(records):
            metrics.CONSUMED.labels(self.service, topic, "ignored").inc(len(records) - len(wanted))
        return [self._decode(r) for r in wanted]

    async def _handle_decoded(self, decoded: list[_Decoded]) -> None:
        """Decoded records of one or more topics (each partition's in order) in one
        transaction; the batch's time is observed under each of its topics."""
        started = asyncio.get_running_loop().time()
        valid = [d for d in decoded if d.envelope is not None]
        poison = [d for d in decoded if d.envelope is None]
        # Events their handler would do nothing with cost no transaction either.
        acting = [d for d in valid if d.envelope and self.handlers.acts_on(d.envelope)]
        if len(acting) < len(valid):
            kept = {id(d) for d in acting}
            for topic, ignored in _per_topic(d for d in valid if id(d) not in kept).items():
                metrics.CONSUMED.labels(self.service, topic, "ignored").inc(ignored)
            valid = acting
        for d in poison:
            await self._with_retry(
                (d.record.topic,), functools.partial(self._dead_letter_undecodable, d)
            )

        if valid:
            await self._with_retry(tuple(_per_topic(valid)), lambda: self._handle_together(valid))
        elapsed = asyncio.get_running_loop().time() - started
        for topic in _per_topic(decoded):
            metrics.HANDLE_LATENCY.labels(self.service, topic).observe(elapsed)

    def _wanted(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """False for an event of a known type this service has no handler for: a service
        subscribes to whole topics and handles some of their types, and validating the others
        and guarding them in the inbox would cost as much as a handled event, for no effect.
        A type no contract knows is still decoded, so that it is dead-lettered."""
        for name, value in record.headers or ():
            if name == "ce_type":
                ce_type = value.decode("utf-8", "replace")
                return (
                    ce_type not in MODEL_OF_TYPE or self.handlers.handler_for(ce_type) is not None
                )
        return True

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> _Decoded:
        try:
            env = decode_envelope(header_map(record.headers), record.value)
            return _Decoded(record, env, None)
        except (EnvelopeError, UnknownEventType, ValidationError, UnicodeDecodeError) as exc:
            return _Decoded(record, None, f"{type(exc).__name__}: {exc}")

    async def _dead_letter_undecodable(self, item: _Decoded) -> None:
        """Dead-letter a message that is no valid event, unless this service did already: it
        comes again after a restart or a rebalance, as every message does whose offset was not
        committed yet (fraud's read-ahead commits behind the records it handled out of order),
        and the inbox, which makes that a no-op for an event, knows it by its place instead."""
        record = item.record
        ce_type = header_map(record.headers or ()).get("ce_type") or "undecodable"
        async with self.sessionmaker() as session, session.begin():
            claimed = await session.scalar(
                pg_insert(self.inbox)
                .values(
                    ce_id=_undecodable_id(record),
                    ce_type=ce_type[:200],
                    topic=record.topic,
                    outcome="dead_lettered",
                )
                .on_conflict_do_nothing()
                .returning(self.inbox.ce_id)
            )
            if claimed is None:
                metrics.CONSUMED.labels(self.service, record.topic, "duplicate").inc()
                return
            # In the transaction: a failed send leaves no inbox row, so the next delivery tries.
            await self._dead_letter(record, item.error or "invalid message")

    async def _with_retry(
        self, topics: tuple[str, ...], attempt: Callable[[], Awaitable[None]]
    ) -> None:
        backoff = 0.2
        while True:
            try:
                await attempt()
                return
            except Exception as exc:
                if not is_transient(exc) or self._stopping:
                    raise
                for topic in topics:
                    metrics.CONSUMER_RETRIES.labels(self.service, topic).inc()
                log.warning(
                    "transient failure on %s, retrying in %.1fs: %r",
                    ", ".join(topics),
                    backoff,
                    exc,
                )
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, self.max_backoff_s)

    async def _handle_together(self, items: list[_Decoded]) -> None:
        """Fast path: the whole batch (of any topics) in one transaction. Falls back to one by
        one on failure. The relay is woken after the commit only when a handler enqueued an
        event: a wake for a transaction that wrote no outbox row (reconciliation's scans of
        returns without a case, notifications' messages to send) gave the relay a round that
        claimed nothing, three round trips on a pooled connection."""
        try:
            async with self.sessionmaker() as session, session.begin():
                new_ids = await self._claim(session, items)
                # Each new event once, in partition order: a copy of it later in the same batch
                # (a producer retry) is a duplicate like any other.
                contexts: list[HandlerContext] = []
                for d in items:
                    assert d.envelope is not None
                    if d.envelope.id in new_ids:
                        new_ids.discard(d.envelope.id)
                        contexts.append(
                            HandlerContext(session, d.envelope, d.record.topic, self.service)
                        )
                batch = self.handlers.batch_handler
                if batch is not None and contexts:
                    await batch(contexts)
                else:
                    for ctx in contexts:
                        await self.handlers.dispatch(ctx)
                enqueued = took_enqueued(session)
        except Exception as exc:
            if is_transient(exc):
                raise
            if len(items) == 1:
                await self._handle_alone_or_dead_letter(items[0].record.topic, items[0], exc)
                return
            for d in items:
                await self._with_retry(
                    (d.record.topic,), functools.partial(self._handle_alone, d.record.topic, d)
                )
            return
        received = _per_topic(items)
        handled = _per_topic(ctx.topic for ctx in contexts)
        for topic, count in received.items():
            self._count(topic, count, handled.get(topic, 0))
        if enqueued and self.on_committed is not None:
            self.on_committed()

    async def _handle_alone(self, topic: str, item: _Decoded) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                new_ids = await self._claim(session, [item])
                if item.envelope is not None and item.envelope.id in new_ids:
                    await self.handlers.dispatch(
                        HandlerContext(session, item.envelope, topic, self.service)
                    )
                enqueued = took_enqueued(session)
            self._count(topic, 1, len(new_ids))
            if enqueued and self.on_committed is not None:
                self.on_committed()
        except Exception as exc:
            if is_transient(exc):
                raise
            await self._handle_alone_or_dead_letter(topic, item, exc)

    async def _handle_alone_or_dead_letter(
        self, topic: str, item: _Decoded, exc: Exception
    ) -> None:
        """The handler rejected this event: record that in the inbox and dead-letter it."""
        assert item.envelope is not None
        log.error(
            "handler failed, dead-lettering",
            extra={"ce_id": str(item.envelope.id), "ce_type": item.envelope.type},
            exc_info=exc,
        )

        async def record() -> None:
            async with self.sessionmaker() as session, session.begin():
                stmt = (
                    pg_insert(self.inbox)
                    .values(
                        ce_id=item.envelope.id,  # type: ignore[union-attr]
                        ce_type=item.envelope.type,  # type: ignore[union-attr]
                        topic=topic,
                        outcome="dead_lettered",
                    )
                    .on_conflict_do_nothing()
                )
                await session.execute(stmt)
                await self._dead_letter(item.record, f"{type(exc).__name__}: {exc}")

        await self._with_retry((topic,), record)

    async def _claim(self, session: AsyncSession, items: list[_Decoded]) -> set[Any]:
        """Insert the batch's ce_ids into the inbox; return those that were not there before."""
        # One event may appear twice within a batch (a producer retry); the first one wins.
        first: dict[UUID, tuple[str, str]] = {}
        for d in items:
            if d.envelope is not None:
                first.setdefault(d.envelope.id, (d.envelope.type, d.record.topic))
        ids: list[UUID] = list(first)
        types: list[str] = [ce_type for ce_type, _ in first.values()]
        topics: list[str] = [topic for _, topic in first.values()]
        if self._claim_statement is None:
            # The whole batch's claim in one statement of three array parameters: its text and
            # plan are the same for one event or five hundred, of one topic or several, and
            # the driver encodes the arrays without SQLAlchemy processing each row's parameters.
            self._claim_statement = text(
                f"INSERT INTO {self.inbox.__tablename__} (ce_id, ce_type, topic, outcome)"
                " SELECT claimed.ce_id, claimed.ce_type, claimed.topic, 'handled'"
                " FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS varchar[]),"
                " CAST(:topics AS varchar[])) AS claimed(ce_id, ce_type, topic)"
                " ON CONFLICT (ce_id) DO NOTHING RETURNING ce_id"
            ).columns(ce_id=PgUUID(as_uuid=True))
        claimed = await session.scalars(
            self._claim_statement, {"ids": ids, "types": types, "topics": topics}
        )
        return set(claimed.all())

    def _count(self, topic: str, received: int, handled: int) -> None:
        if handled:
            metrics.CONSUMED.labels(self.service, topic, "handled").inc(handled)
        if received - handled:
            metrics.CONSUMED.labels(self.service, topic, "duplicate").inc(received - handled)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        headers = list(record.headers or ()) + [
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self.group_id.encode()),
            ("dlq_service", self.service.encode()),
            ("dlq_error", error[:2000].encode("utf-8", "replace")),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.producer.send_and_wait(
            f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers
        )
        metrics.DLQ_MESSAGES.labels(self.service, record.topic).inc()
        metrics.CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()


def _per_topic(items: Iterable[_Decoded | str]) -> dict[str, int]:
    """How many of `items` (decoded records, or topics) each topic has, in first-seen order."""
    counts: dict[str, int] = {}
    for item in items:
        topic = item if isinstance(item, str) else item.record.topic
        counts[topic] = counts.get(topic, 0) + 1
    return counts


# Names the inbox rows of messages that are no valid event (`_undecodable_id`).
_UNDECODABLE = UUID("3f6b2a8e-5c1d-4e7a-9b20-6d4c8e1f0a57")


def _undecodable_id(record: ConsumerRecord[bytes, bytes]) -> UUID:
    """The inbox id of a message without a usable `ce_id`: its topic, partition and offset,
    which every delivery of it shares, and its broker timestamp, so that a topic made anew,
    whose offsets start again, does not take a new message for an old one."""
    place = f"{record.topic}/{record.partition}/{record.offset}/{record.timestamp}"
    return uuid5(_UNDECODABLE, place)


__all__ = [
    "BatchHandler",
    "ConsumerRunner",
    "EventHandlers",
    "HandlerContext",
    "PermanentError",
]
