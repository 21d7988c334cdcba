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
2. then the oldest `chunk_size` buffered records, one transaction per topic: the bound on how
   long a newly fetched escalation waits for the transaction in progress. Behind a backlog
   they are committed after the escalations' transactions, never with them; once the consumer
   has caught up, the few left join the last of them (each transaction has fixed costs).

An escalation goes ahead only while it is at most `overtake` ahead, in event time, of what the
consumer has counted: the latest event time among the events it handled in offset order
(`counted_to`; expedited events do not move it, or a claim let ahead would carry the mark past
the backlog it skipped). The detectors count in event time, and a claim scored before the
deliveries of the days before it sees its seller's rate without them. Live, the consumer has
counted up to seconds or minutes ago and every escalation goes ahead, also behind a backlog
and among late scans (a partner's batch, a feed entry for a return initiated days ago); behind
a backlog of days of event time (a replay, a marketplace's history sent in minutes, a long
outage) an escalation waits for the events before it, in offset order, until the consumer has
counted to within `overtake` of it. Measured on a drawn world sent through intake: the median
claim went ahead of the events of 17.5 days before it (docs/fraud-detection.md, "Through the
pipeline").

Exactly once and in order per key as before: a key's events are all in one partition, a
record leaves the buffer only with every earlier buffered record of its key, and each
partition's committed offset is its first record not yet handled, so a restart redelivers from
there and the inbox skips what was handled out of offset order. Across keys the order moves
within the read-ahead window, as it always could across partitions and within a poll.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared import metrics
from shared.events import EventPayload
from shared.kafka.consumer import ConsumerRunner

Record: TypeAlias = ConsumerRecord[bytes, bytes]
# A buffered record: whether it is of an expedited type, and if so its event time (None when
# no bound applies or its payload does not decode).
Buffered: TypeAlias = tuple[Record, bool, datetime | None]


class ReadAheadRunner(ConsumerRunner):
    def __init__(
        self,
        *,
        chunk_size: int = 50,
        read_ahead: int = 20000,
        overtake: timedelta | None = None,
        event_time: Callable[[EventPayload], datetime | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.chunk_size = chunk_size
        self.read_ahead = read_ahead
        # How much older (event time) the events an expedited one goes ahead of may be; None:
        # any (bounded only by `read_ahead`).
        self.overtake = overtake if event_time is not None else None
        self.event_time = event_time
        # Per partition: fetched records not handled yet, in offset order, each with whether it
        # is of an expedited type (decided once, from its headers) and then its event time.
        self._buffered: dict[TopicPartition, deque[Buffered]] = {}
        # Per partition: the latest fact time among its events handled in offset order (not
        # expedited ones). How far the consumer has counted is the slowest partition's.
        self._counted: dict[TopicPartition, datetime] = {}
        # Per partition: the last offset fetched, and the offset last handed to commit.
        self._fetched_to: dict[TopicPartition, int] = {}
        self._committable: dict[TopicPartition, int] = {}

    @property
    def buffered(self) -> int:
        return sum(len(q) for q in self._buffered.values())

    async def _poll_loop(self, consumer: AIOKafkaConsumer) -> None:
        # A new consumer starts from the committed offsets: nothing fetched before counts.
        self._buffered.clear()
        self._fetched_to.clear()
        self._committable.clear()
        while not self._stopping:
            await self._fetch(consumer)
            self._forget_revoked(consumer.assignment())
            for stage in self._round():
                await self._handle_stage(stage)
            self._advance()
            await self.commit_pending()
            await self.export_lag_if_due(consumer, now=asyncio.get_running_loop().time())

    async def _fetch(self, consumer: AIOKafkaConsumer) -> None:
        """Everything the fetcher holds, up to `read_ahead` buffered: the fetcher asks the
        broker for a partition's next records only once it has handed out the last ones, so
        an escalation is seen only when what was fetched before it is in the buffer. With
        records waiting, no poll timeout between two transactions."""
        while self.buffered < self.read_ahead:
            polled = await consumer.getmany(
                timeout_ms=0 if self.buffered else self.POLL_TIMEOUT_MS, max_records=self.batch_size
            )
            if not any(polled.values()):
                return
            self._take(polled)

    def _take(self, polled: dict[TopicPartition, list[Record]]) -> None:
        expedited = bool(self.handlers.expedited)
        for tp, records in polled.items():
            last = self._fetched_to.get(tp, -1)
            queue = self._buffered.setdefault(tp, deque())
            for r in records:
                # After a rebalance the fetcher restarts from the committed offset: what was
                # fetched before is buffered or handled already.
                if r.offset <= last:
                    continue
                fast = expedited and self._expedites_record(r)
                queue.append((r, fast, self._event_time_of(r) if fast else None))
                last = r.offset
            self._fetched_to[tp] = last

    def _forget_revoked(self, assigned: set[TopicPartition]) -> None:
        """Partitions another consumer owns now: it redelivers from their committed offset."""
        for tp in [tp for tp in self._fetched_to if tp not in assigned]:
            self._buffered.pop(tp, None)
            self._fetched_to.pop(tp, None)
            self._committable.pop(tp, None)
            self._pending.pop(tp, None)
            self._counted.pop(tp, None)

    def _take_expedited(self) -> list[Record]:
        """Every buffered record of the keys with a buffered expedited event that may go ahead
        (`_expedite_bound`), per partition in offset order."""
        out: list[Record] = []
        bound = self._expedite_bound()
        for tp, queue in self._buffered.items():
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
                else:
                    kept.append(item)
            self._buffered[tp] = kept
        return out

    @property
    def counted_to(self) -> datetime | None:
        """How far, in event time, the consumer has counted: the slowest partition with
        records waiting, each partition at the later of its latest fact handled in offset
        order and its first record waiting (a late event at the head holds nothing back; a
        partition the read-ahead has served less, behind a backlog, does). A partition with
        nothing waiting has counted all it has. None: nothing known."""
        marks: list[datetime] = []
        for tp, queue in self._buffered.items():
            if not queue:
                continue
            counted = self._counted.get(tp)
            head = self._event_time_of(queue[0][0])
            known = [t for t in (counted, head) if t is not None]
            if known:
                marks.append(max(known))
        return min(marks) if marks else None

    def _expedite_bound(self) -> datetime | None:
        """The latest event time an expedited event may have to go ahead this round:
        `overtake` after what the consumer has counted (`counted_to`). None: no bound."""
        if self.overtake is None:
            return None
        mark = self.counted_to
        return mark + self.overtake if mark is not None else None

    def _count_to(self, taken: dict[TopicPartition, Record]) -> None:
        """Each partition's mark moves on with its last record handled in offset order this
        round (a partition's records come about in event time: its last is its latest)."""
        for tp, record in taken.items():
            at = self._event_time_of(record)
            if at is not None and (tp not in self._counted or at > self._counted[tp]):
                self._counted[tp] = at

    def _event_time_of(self, record: Record) -> datetime | None:
        if self.event_time is None:
            return None
        envelope = self._decode(record).envelope
        return self.event_time(envelope.payload) if envelope is not None else None

    def _round(self) -> list[list[Record]]:
        """This round's transactions: the expedited records in chunks, then the oldest
        `chunk_size` buffered records. Those join the last chunk only when they are the last
        records buffered (the consumer has caught up: a few events, and a transaction saved,
        since each costs about as much as 15 events more, bench/consumer_cpu.py). Behind a
        backlog they are a full chunk of their own, committed after the escalations: joined,
        every escalation of the last chunk waited for them, 0.25 s at the median and 0.75 s
        at p95 under the benchmark's load, for a transaction's fixed cost saved per round."""
        stages = self._in_chunks(self._take_expedited())
        oldest = self._take_oldest()
        caught_up = not self.buffered
        if stages and caught_up and len(stages[-1]) < self.chunk_size:
            stages[-1].extend(oldest)
        elif oldest:
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

    def _take_oldest(self) -> list[Record]:
        """Up to `chunk_size` of the oldest buffered records, shared between the partitions."""
        busy = [(tp, q) for tp, q in self._buffered.items() if q]
        out: list[Record] = []
        # Each partition's last record taken that is not expedited: what was counted to.
        last: dict[TopicPartition, Record] = {}
        while busy and len(out) < self.chunk_size:
            share = max((self.chunk_size - len(out)) // len(busy), 1)
            for tp, queue in busy:
                for _ in range(min(share, len(queue), self.chunk_size - len(out))):
                    record, fast, _ = queue.popleft()
                    out.append(record)
                    if not fast:
                        last[tp] = record
            busy = [(tp, q) for tp, q in busy if q]
        if self.overtake is not None:
            self._count_to(last)
        return out

    async def _handle_stage(self, records: list[Record]) -> None:
        """One transaction per topic, each partition's records in order."""
        by_topic: dict[str, list[Record]] = {}
        for r in records:
            by_topic.setdefault(r.topic, []).append(r)
        for topic, rs in by_topic.items():
            await self._handle_records(topic, rs)

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
