"""Fraud's consumer: the shared runner, reading ahead of a backlog so that an escalation's
assessment does not queue behind the scans fetched before it.

The shared runner (`shared.kafka.consumer`) handles one poll at a time and expedites an
escalation only within its own poll. When fraud falls behind, an escalation arriving now sits
behind every record fetched before it: at the benchmark's ×1 stream on the loaded machine,
3,800 events (p95) and 21 s of the 23 s it waited (`bench/fraud_waits.py`). This runner keeps
up to `read_ahead` fetched records in memory and, between transactions, fetches again without
waiting. Each round:

1. the buffered records of every key with an expedited event (an escalation and its return's
   earlier events still buffered, each partition's in order) are handled first, as the
   shared runner's expedited stage, in transactions of about `chunk_size` events (each key
   whole in one), in the order their keys were first fetched;
2. then the oldest `chunk_size` buffered records, of every topic, in one transaction: the
   bound on how long a newly fetched escalation waits for the transaction in progress.
   Behind a backlog they are committed after the escalations' transactions, never with them,
   and the escalations fetched while those ran go before them too (one more fetch, from the
   fetcher's buffer); once the consumer has caught up, the few left join the last of the
   escalations' transactions (each transaction has fixed costs).

An escalation goes ahead only while it is at most `overtake` ahead, in event time, of what the
consumer has counted (`_expedite_bound`): the detectors count in event time, and a claim scored
before the deliveries of the days before it sees its seller's rate without them. What has been
counted is the slowest mark among every partition of the consumed topics with records waiting,
this replica's and the others':

- a partition of this replica with records buffered: the later of the latest fact time among
  its events handled in offset order (expedited events do not move it: a claim let ahead would
  carry the mark past the backlog it skipped) and its first record waiting (a late event at
  the head holds nothing back);
- one of this replica's with nothing buffered but more at the broker (its end past the
  fetcher's position), or not fetched yet: its latest fact handled. Records not seen yet are
  not "caught up";
- another replica's (or nobody's yet) with records waiting (its end past its committed
  offset): the mark its owner committed with that offset. Each replica commits a partition's
  mark as the metadata of its offset, so a restarted consumer, the new owner after a rebalance
  and every other replica start from the mark a running one had;
- a partition with records waiting whose mark is not known (nothing handled in offset order
  yet, a mark that cannot be read): the earliest time, so nothing goes ahead of it.

A mark moves only once the transaction that handled its records has committed, to the latest
fact time among them (a partition is not in event time order: a partner's late batch, a
redelivery). Only facts timed by their sender move it or stand for it at a partition's head
(`mark_time`; fraud's: `scoring.base.counted_time`): a claim, its evidence or an appeal is
stamped by intake as it arrives, and behind a replay of days sent in minutes that stamp runs
days ahead of the scans around it. Counted as a mark, the first evidence handled carried its
partition to the present, every claim then went ahead with its return's scans, and a hub's
claimed losses were counted days before the ordinary deliveries of the same days.
Live, every partition has counted up to seconds or minutes ago and every
escalation goes ahead, also behind a backlog and among late scans (a partner's batch, a feed
entry for a return initiated days ago); behind a backlog of days of event time (a replay, a
marketplace's history sent in minutes, a long outage), on any replica, an escalation waits for
the events before it, in offset order, until the consumer has counted to within `overtake` of
it. Measured on a drawn world sent through intake: docs/fraud-detection-journal.md, "Through the
pipeline".

Exactly once and in order per key as before: a key's events are all in one partition, a
record leaves the buffer only with every earlier buffered record of its key, and each
partition's committed offset is its first record not yet handled, so a restart redelivers from
there and the inbox skips what was handled out of offset order. Across keys the order moves
within the read-ahead window, as it always could across partitions and within a poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import IllegalStateError
from aiokafka.structs import OffsetAndMetadata

from shared import metrics
from shared.events import EventPayload
from shared.kafka.consumer import ConsumerRunner, _Decoded

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
# A buffered record: whether it is of an expedited type, and if so its event time (None when
# no bound applies or its payload does not decode).
Buffered: TypeAlias = tuple[Record, bool, datetime | None]

# The mark of a partition with records waiting whose mark is not known: nothing goes ahead of it.
UNKNOWN = datetime.min.replace(tzinfo=UTC)
# How a partition's mark is written into the metadata of its committed offset.
MARK_PREFIX = "counted_to="


def mark_of(committed: OffsetAndMetadata | None) -> datetime | None:
    """The mark committed with an offset (None: none, or not one this runner wrote)."""
    metadata = committed.metadata if committed is not None else None
    if not metadata or not metadata.startswith(MARK_PREFIX):
        return None
    try:
        at = datetime.fromisoformat(metadata.removeprefix(MARK_PREFIX))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


@dataclass(slots=True)
class Stage:
    """One round's transaction: its records, and which of them (by `id`) were taken in offset
    order, whose fact times move their partition's mark once the transaction commits."""

    records: list[Record]
    in_order: set[int] = field(default_factory=set)


class ReadAheadRunner(ConsumerRunner):
    # How old the other replicas' marks and their partitions' ends may be when an escalation
    # waits on them: read at most once a second, and only while one waits (a replica that owns
    # every partition reads nothing).
    GROUP_VIEW_TTL_S = 1.0
    # A broker read for the bound that takes longer counts as unknown (nothing goes ahead).
    GROUP_VIEW_TIMEOUT_S = 5.0
    # After a failed read of the marks of newly assigned partitions, how long until the next
    # try: the poll loop waits on each, and meanwhile those partitions count more carefully.
    RESTORE_RETRY_S = 30.0

    def __init__(
        self,
        *,
        chunk_size: int = 50,
        read_ahead: int = 20000,
        overtake: timedelta | None = None,
        event_time: Callable[[EventPayload], datetime | None] | None = None,
        mark_time: Callable[[EventPayload], datetime | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.chunk_size = chunk_size
        self.read_ahead = read_ahead
        # How much older (event time) the events an expedited one goes ahead of may be; None:
        # any (bounded only by `read_ahead`).
        self.overtake = overtake if event_time is not None else None
        self.event_time = event_time
        # The time an event handled in offset order moves its partition's mark to (and a
        # record at a partition's head reads as): its event time unless told otherwise. None
        # for an event: it shows nothing of how far the partition has counted.
        self.mark_time = mark_time or event_time
        # Per partition: fetched records not handled yet, in offset order, each with whether it
        # is of an expedited type (decided once, from its headers) and then its event time.
        self._buffered: dict[TopicPartition, deque[Buffered]] = {}
        # Per partition with any: how many of its buffered records are of an expedited type.
        self._fast: dict[TopicPartition, int] = {}
        # Per partition: the latest fact time among its events handled in offset order (not
        # expedited ones) and committed: its mark, committed with its offset (`offset_metadata`).
        self._counted: dict[TopicPartition, datetime] = {}
        # The assigned partitions whose committed mark has been read since they were assigned.
        self._restored: set[TopicPartition] = set()
        self._restore_failed_at = float("-inf")
        # Per partition: its first buffered record's offset and event time, read once.
        self._head_times: dict[TopicPartition, tuple[int, datetime | None]] = {}
        # The other replicas' partitions, and the marks of those with records waiting, as read;
        # kept until `_elsewhere_until` (loop time): GROUP_VIEW_TTL_S after a read ends, or
        # RESTORE_RETRY_S after a failed one (counted unknown meanwhile).
        self._elsewhere: tuple[frozenset[TopicPartition], list[datetime]] | None = None
        self._elsewhere_until = float("-inf")
        self._admin: AIOKafkaAdminClient | None = None
        # Per partition: the last offset fetched, and the offset last handed to commit.
        self._fetched_to: dict[TopicPartition, int] = {}
        self._committable: dict[TopicPartition, int] = {}

    @property
    def buffered(self) -> int:
        return sum(len(q) for q in self._buffered.values())

    async def _poll_loop(self, consumer: AIOKafkaConsumer) -> None:
        # A new consumer starts from the committed offsets and the marks committed with them:
        # nothing fetched or counted before counts.
        self._buffered.clear()
        self._fast.clear()
        self._fetched_to.clear()
        self._committable.clear()
        self._counted.clear()
        self._restored.clear()
        self._restore_failed_at = float("-inf")
        self._head_times.clear()
        self._elsewhere = None
        try:
            while not self._stopping:
                await self._fetch(consumer)
                await self._handle_round(consumer)
                self._advance()
                now = asyncio.get_running_loop().time()
                await self.commit_if_due(now)
                await self.export_lag_if_due(consumer, now=now)
        finally:
            await self._close_admin()

    async def _fetch(self, consumer: AIOKafkaConsumer) -> None:
        """Everything the fetcher holds, up to `read_ahead` buffered: the fetcher asks the
        broker for a partition's next records only once it has handed out the last ones, so
        an escalation is seen only when what was fetched before it is in the buffer. With
        records waiting, no poll timeout between two transactions."""
        while self.buffered < self.read_ahead:
            polled = await consumer.getmany(
                timeout_ms=0 if self.buffered else self.poll_timeout_ms(),
                max_records=self.batch_size,
            )
            if not any(polled.values()):
                return
            self._take(polled)

    def _take(self, polled: dict[TopicPartition, list[Record]]) -> None:
        expedited = bool(self.handlers.expedited)
        for tp, records in polled.items():
            last = self._fetched_to.get(tp, -1)
            queue = self._buffered.setdefault(tp, deque())
            fast_taken = 0
            for r in records:
                # After a rebalance the fetcher restarts from the committed offset: what was
                # fetched before is buffered or handled already.
                if r.offset <= last:
                    continue
                fast = expedited and self._expedites_record(r)
                queue.append((r, fast, self._event_time_of(r) if fast else None))
                fast_taken += fast
                last = r.offset
            self._fetched_to[tp] = last
            if fast_taken:
                self._fast[tp] = self._fast.get(tp, 0) + fast_taken

    def _forget_revoked(self, assigned: set[TopicPartition]) -> None:
        """Partitions another consumer owns now: it redelivers from their committed offset,
        and counts from the mark committed with it."""
        known = self._fetched_to.keys() | self._restored | self._counted.keys()
        for tp in [tp for tp in known if tp not in assigned]:
            self._buffered.pop(tp, None)
            self._fast.pop(tp, None)
            self._fetched_to.pop(tp, None)
            self._committable.pop(tp, None)
            self._pending.pop(tp, None)
            self._counted.pop(tp, None)
            self._restored.discard(tp)
            self._head_times.pop(tp, None)

    def _take_expedited(self, bound: datetime | None) -> list[Record]:
        """Every buffered record of the keys with a buffered expedited event that may go ahead
        (its event time at most `bound`; None: any), per partition in offset order."""
        out: list[Record] = []
        for tp, waiting in list(self._fast.items()):
            queue = self._buffered[tp]
            keys = {
                r.key
                for r, fast, at in queue
                if fast and (bound is None or at is None or at <= bound)
            }
            if not keys:
                continue
            kept: deque[Buffered] = deque()
            for item in queue:
                if item[0].key in keys:
                    out.append(item[0])
                    waiting -= item[1]
                else:
                    kept.append(item)
            self._buffered[tp] = kept
            self._set_fast(tp, waiting)
        return out

    def _set_fast(self, tp: TopicPartition, waiting: int) -> None:
        if waiting:
            self._fast[tp] = waiting
        else:
            self._fast.pop(tp, None)

    # -- the bound: how far every partition has counted --------------------------------------

    async def _expedite_bound(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> datetime | None:
        """The latest event time an expedited event may have to go ahead this round:
        `overtake` after the slowest mark of the partitions with records waiting, here and on
        the other replicas (see the module's docstring). None: nothing waits anywhere, so
        nothing is left to count before it."""
        assert self.overtake is not None
        marks: list[datetime] = []
        for tp in assigned:
            mark = await self._mark_here(consumer, tp)
            if mark is not None:
                marks.append(mark)
        marks += await self._marks_elsewhere(consumer, assigned)
        if not marks:
            return None
        slowest = min(marks)
        return slowest if slowest == UNKNOWN else slowest + self.overtake

    async def _mark_here(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> datetime | None:
        """The mark of one of this replica's partitions; None when nothing of it waits."""
        counted = self._counted.get(tp)
        queue = self._buffered.get(tp)
        if queue:
            head = self._head_time(tp, queue[0])
            known = [t for t in (counted, head) if t is not None]
            return max(known) if known else UNKNOWN
        if not await self._more_at_broker(consumer, tp):
            return None
        return counted if counted is not None else UNKNOWN

    def _head_time(self, tp: TopicPartition, head: Buffered) -> datetime | None:
        record = head[0]
        cached = self._head_times.get(tp)
        if cached is None or cached[0] != record.offset:
            cached = (record.offset, self._mark_time_of(record))
            self._head_times[tp] = cached
        return cached[1]

    @staticmethod
    async def _more_at_broker(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
        """Whether the broker holds records of this partition past what the fetcher has
        handed out: its end (the last stable offset, as this consumer reads committed records
        only) past the fetcher's position. Not fetched yet: not known, so yes."""
        if tp not in consumer.assignment():  # revoked in between: its new owner counts it
            return False
        end = consumer.last_stable_offset(tp)
        if end is None or end < 0:
            end = consumer.highwater(tp)
        if end is None:
            return True
        try:
            # Bounded: position() waits, without limit, for a partition being reset (after an
            # offset out of range), as the base runner's lag export knows.
            position = await asyncio.wait_for(consumer.position(tp), 0.5)
        except IllegalStateError:  # revoked in between: its new owner counts it
            return False
        except TimeoutError:  # no position yet: records may wait
            return True
        return bool(end > position)

    async def _marks_elsewhere(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> list[datetime]:
        """The marks of the consumed topics' partitions this replica does not own that have
        records waiting (their end past their committed offset), as their owners committed
        them, read at most every GROUP_VIEW_TTL_S."""
        others = (
            frozenset(
                TopicPartition(topic, p)
                for topic in self.topics
                for p in consumer.partitions_for_topic(topic) or ()
            )
            - assigned
        )
        if not others:
            return []
        loop = asyncio.get_running_loop()
        if (
            self._elsewhere is None
            or self._elsewhere[0] != others
            or loop.time() >= self._elsewhere_until
        ):
            # One budget for the whole read (its three broker reads each have their own), and
            # a failure not retried every round: a broker that fetches but does not answer these
            # reads must not cost every round the timeout (rounds would handle a chunk a wait).
            try:
                marks = await asyncio.wait_for(
                    self._read_marks(consumer, sorted(others)), self.GROUP_VIEW_TIMEOUT_S
                )
            except TimeoutError:
                log.warning("reading %s's other partitions timed out", self.group_id)
                await self._close_admin()
                marks = None
            if marks is None:
                self._elsewhere = (others, [UNKNOWN])
                self._elsewhere_until = loop.time() + self.RESTORE_RETRY_S
            else:
                self._elsewhere = (others, marks)
                self._elsewhere_until = loop.time() + self.GROUP_VIEW_TTL_S
        return self._elsewhere[1]

    async def _read_marks(
        self, consumer: AIOKafkaConsumer, parts: list[TopicPartition]
    ) -> list[datetime] | None:
        """The marks of `parts` with records waiting; None if the broker could not be read."""
        committed = await self._committed(parts)
        if committed is None:
            return None
        positions = {
            tp: meta.offset
            for tp, meta in committed.items()
            if meta is not None and meta.offset >= 0
        }
        try:
            ends = await asyncio.wait_for(consumer.end_offsets(parts), self.GROUP_VIEW_TIMEOUT_S)
            # Never committed: the group would start at the beginning.
            unstarted = [tp for tp in parts if tp not in positions]
            if unstarted:
                positions |= await asyncio.wait_for(
                    consumer.beginning_offsets(unstarted), self.GROUP_VIEW_TIMEOUT_S
                )
        except Exception as exc:  # a broker away: the other replicas' marks are not known
            log.warning("could not read the ends of %s's other partitions: %r", self.group_id, exc)
            return None
        return [mark_of(committed.get(tp)) or UNKNOWN for tp in parts if ends[tp] > positions[tp]]

    async def _restore_marks(self, assigned: Iterable[TopicPartition]) -> None:
        """The marks committed with the offsets of partitions newly assigned (a restart, a
        rebalance): this replica resumes counting where their last owner stopped, as careful
        as a consumer that never stopped. Until read (a failed read is tried again next
        round), such a partition counts from its first record waiting only."""
        new = [tp for tp in assigned if tp not in self._restored]
        now = asyncio.get_running_loop().time()
        if not new or now - self._restore_failed_at < self.RESTORE_RETRY_S:
            return
        committed = await self._committed(new)
        if committed is None:
            self._restore_failed_at = now
            return
        for tp in new:
            self._restored.add(tp)
            mark = mark_of(committed.get(tp))
            if mark is not None:
                counted = self._counted.get(tp)
                self._counted[tp] = mark if counted is None else max(counted, mark)

    async def _committed(
        self, parts: list[TopicPartition]
    ) -> dict[TopicPartition, OffsetAndMetadata] | None:
        """The group's committed offsets and their metadata for `parts`; None if unreadable
        (within GROUP_VIEW_TIMEOUT_S, connecting included: the poll loop waits on it)."""

        async def read() -> dict[TopicPartition, OffsetAndMetadata]:
            if self._admin is None:
                self._admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=f"{self.service}-{self.group_id}-marks",
                )
                await self._admin.start()
            offsets: dict[TopicPartition, OffsetAndMetadata]
            offsets = await self._admin.list_consumer_group_offsets(self.group_id, partitions=parts)
            return offsets

        try:
            return await asyncio.wait_for(read(), self.GROUP_VIEW_TIMEOUT_S)
        except Exception as exc:
            log.warning("could not read %s's committed marks: %r", self.group_id, exc)
            await self._close_admin()
            return None

    async def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                await admin.close()
            except Exception:  # being discarded; a failed close changes nothing
                log.debug("admin client close failed", exc_info=True)

    def offset_metadata(self, tp: TopicPartition) -> str:
        """A partition's mark, committed with its offset: whoever resumes it counts from there."""
        at = self._counted.get(tp)
        return f"{MARK_PREFIX}{at.isoformat()}" if at is not None else ""

    def _event_time_of(self, record: Record) -> datetime | None:
        if self.event_time is None:
            return None
        envelope = self._decode(record).envelope
        return self.event_time(envelope.payload) if envelope is not None else None

    def _mark_time_of(self, record: Record) -> datetime | None:
        if self.mark_time is None:
            return None
        envelope = self._decode(record).envelope
        return self.mark_time(envelope.payload) if envelope is not None else None

    # -- one round's transactions ------------------------------------------------------------

    async def _handle_round(self, consumer: AIOKafkaConsumer) -> None:
        """One round's transactions (`_round`). Behind a backlog, the escalations fetched
        while the round's expedited transactions ran are fetched and handled before the
        oldest records too, instead of in the next round: otherwise each waited for the
        oldest chunk's transaction (a full `chunk_size` of scans) before its own began. One
        fetch from the fetcher's buffer (no broker round trip) per such round; the oldest
        chunk still follows in every round, so the backlog is never starved."""
        stages = self._expedited_stages(await self._bound(consumer))
        if stages and self.buffered > self.chunk_size:
            for stage in stages:
                await self._handle_stage(stage)
            await self._fetch(consumer)
            stages = self._expedited_stages(await self._bound(consumer))
        for stage in self._then_oldest(stages):
            await self._handle_stage(stage)

    async def _bound(self, consumer: AIOKafkaConsumer) -> datetime | None:
        """The partitions assigned now (a rebalance may have taken some), and the bound on the
        event time of the expedited records that may go ahead (`_expedite_bound`)."""
        assigned = consumer.assignment()
        self._forget_revoked(assigned)
        if self.overtake is None:
            return None
        await self._restore_marks(assigned)
        return await self._expedite_bound(consumer, assigned) if self._fast else None

    def _round(self, bound: datetime | None = None) -> list[Stage]:
        """This round's transactions: the expedited records that may go ahead (`bound`) in
        chunks, then the oldest `chunk_size` buffered records (`_then_oldest`)."""
        return self._then_oldest(self._expedited_stages(bound))

    def _expedited_stages(self, bound: datetime | None) -> list[Stage]:
        """The buffered expedited records that may go ahead (`bound`), in chunks."""
        return [Stage(chunk) for chunk in self._in_chunks(self._take_expedited(bound))]

    def _then_oldest(self, stages: list[Stage]) -> list[Stage]:
        """`stages`, then the oldest `chunk_size` buffered records. Those join the last chunk
        only when they are the last records buffered (the consumer has caught up: a few
        events, and a transaction saved, since each costs about as much as 15 events more,
        bench/consumer_cpu.py). Behind a backlog they are a full chunk of their own, committed
        after the escalations: joined, every escalation of the last chunk waited for them,
        0.25 s at the median and 0.75 s at p95 under the benchmark's load, for a
        transaction's fixed cost saved per round."""
        oldest = self._take_oldest()
        caught_up = not self.buffered
        if stages and caught_up and len(stages[-1].records) < self.chunk_size:
            stages[-1].records.extend(oldest.records)
            stages[-1].in_order = oldest.in_order
        elif oldest.records:
            stages.append(oldest)
        return stages

    def _in_chunks(self, records: list[Record]) -> list[list[Record]]:
        """The expedited records in transactions of about `chunk_size` events, each key's
        whole in one: when many escalations arrived during a long transaction, the first of
        them is committed without waiting for the last."""
        by_key: dict[tuple[str, int, bytes | None], list[Record]] = {}
        for r in records:
            by_key.setdefault((r.topic, r.partition, r.key), []).append(r)
        parts: list[list[Record]] = [[]]
        for group in by_key.values():
            if parts[-1] and len(parts[-1]) + len(group) > self.chunk_size:
                parts.append([])
            parts[-1].extend(group)
        return [p for p in parts if p]

    def _take_oldest(self) -> Stage:
        """Up to `chunk_size` of the oldest buffered records, shared between the partitions;
        those not of an expedited type count (`Stage.in_order`)."""
        busy = [(tp, q) for tp, q in self._buffered.items() if q]
        stage = Stage([])
        counting = self.overtake is not None
        while busy and len(stage.records) < self.chunk_size:
            share = max((self.chunk_size - len(stage.records)) // len(busy), 1)
            for tp, queue in busy:
                for _ in range(min(share, len(queue), self.chunk_size - len(stage.records))):
                    record, fast, _ = queue.popleft()
                    stage.records.append(record)
                    if fast:
                        self._set_fast(tp, self._fast[tp] - 1)
                    elif counting:
                        stage.in_order.add(id(record))
            busy = [(tp, q) for tp, q in busy if q]
        return stage

    async def _handle_stage(self, stage: Stage) -> None:
        """One transaction for the stage's topics together (each topic's records after the
        previous topic's, each partition's in order), as the shared runner handles a poll;
        once it has committed, its partitions' marks move on with what it counted."""
        by_topic: dict[str, list[Record]] = {}
        for r in stage.records:
            by_topic.setdefault(r.topic, []).append(r)
        decoded = {topic: self._decode_wanted(topic, rs) for topic, rs in by_topic.items()}
        await self._handle_decoded([d for ds in decoded.values() for d in ds])
        if stage.in_order:
            for topic, rs in by_topic.items():
                self._count_handled(topic, rs, decoded[topic], stage.in_order)

    def _count_handled(
        self, topic: str, records: list[Record], decoded: list[_Decoded], in_order: set[int]
    ) -> None:
        """Each partition's mark moves to the latest fact time among its events handled in
        offset order (its latest, not its last: a partition is not in event time order)."""
        assert self.mark_time is not None
        latest: dict[int, datetime] = {}
        for d in decoded:
            if d.envelope is None or id(d.record) not in in_order:
                continue
            at = self.mark_time(d.envelope.payload)
            partition = d.record.partition
            if at is not None and (partition not in latest or at > latest[partition]):
                latest[partition] = at
        # A partition with no mark yet whose records so far are of types fraud ignores (not
        # decoded for handling) or carry no fact time: their times are read for the mark alone,
        # once, so that it is never "not known" again (which holds every claim).
        unmarked = {
            p
            for p in {r.partition for r in records}
            if p not in latest and TopicPartition(topic, p) not in self._counted
        }
        for r in records:
            if r.partition in unmarked and id(r) in in_order:
                at = self._mark_time_of(r)
                if at is not None and (r.partition not in latest or at > latest[r.partition]):
                    latest[r.partition] = at
        for partition, at in latest.items():
            tp = TopicPartition(topic, partition)
            counted = self._counted.get(tp)
            if counted is None or at > counted:
                self._counted[tp] = at

    def _advance(self) -> None:
        """Each partition's offset to commit: its first record not handled yet."""
        for tp, last in self._fetched_to.items():
            queue = self._buffered.get(tp)
            position = queue[0][0].offset if queue else last + 1
            if position != self._committable.get(tp):
                self._committable[tp] = position
                self._pending[tp] = position
                self._position_moves += 1

    async def _export_lag(self, consumer: AIOKafkaConsumer) -> bool:
        """The lag counts the records fetched but not handled yet, as the committed offsets do
        (known without a read: always complete)."""
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            committed = self._committable.get(tp)
            if committed is None:
                continue
            metrics.CONSUMER_LAG.labels(
                self.service, tp.topic, str(tp.partition), self.group_id
            ).set(max(highwater - committed, 0))
        return True
