"""Fraud's read-ahead consumer, its buffer alone: what goes first, in what order, and which
offset may be committed (services/fraud/scoring/consumer.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from services.fraud.scoring.base import counted_time, fact_time
from services.fraud.scoring.consumer import UNKNOWN, ReadAheadRunner, Stage, mark_of
from shared.envelope import Envelope
from shared.events import (
    ClaimType,
    EscalationChannel,
    EvidenceAdded,
    ReturnInitiated,
    SellerEscalationFiled,
)
from shared.kafka.consumer import EventHandlers
from shared.kafka.records import consumer_record

TOPIC = "t"


def _record(
    rid: str,
    offset: int,
    *,
    escalation: bool = False,
    partition: int = 0,
    at: datetime | None = None,
) -> ConsumerRecord[bytes, bytes]:
    at = at or datetime.now(UTC)
    payload = (
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id="S-1",
            claim_type=ClaimType.DAMAGED,
            claimed_amount=1,
            description="d",
            channel=EscalationChannel.PORTAL,
            filed_at=at,
            filed_by="t",
        )
        if escalation
        else ReturnInitiated(
            return_id=rid,
            order_id="O",
            seller_id="S-1",
            buyer_id="B-1",
            category="c",
            item_value=1,
            qc_required=False,
            partner_id="swiftship",
            awb="A",
            initiated_at=at,
        )
    )
    return consumer_record(
        Envelope(payload, source="test"), topic=TOPIC, offset=offset, partition=partition
    )


def _evidence(
    rid: str, offset: int, at: datetime, partition: int = 0
) -> ConsumerRecord[bytes, bytes]:
    payload = EvidenceAdded(escalation_id=f"ESC-{rid}", return_id=rid, seller_id="S-1", added_at=at)
    return consumer_record(
        Envelope(payload, source="test"), topic=TOPIC, offset=offset, partition=partition
    )


def _runner(
    chunk: int = 3, overtake: timedelta | None = None, *, as_fraud: bool = False
) -> ReadAheadRunner:
    """`as_fraud`: marks moved as fraud's app moves them (`counted_time`); otherwise by the
    event time alone (the runner's default)."""
    handlers = EventHandlers()
    handlers.expedite(SellerEscalationFiled)

    @handlers.on(ReturnInitiated)
    @handlers.on(SellerEscalationFiled)
    @handlers.on(EvidenceAdded)
    async def handled(event: object, ctx: object) -> None:
        return None

    return ReadAheadRunner(
        chunk_size=chunk,
        overtake=overtake,
        event_time=fact_time,
        mark_time=counted_time if as_fraud else None,
        service="t",
        group_id="g",
        topics=[TOPIC],
        handlers=handlers,
        sessionmaker=None,  # type: ignore[arg-type]
        inbox_model=None,  # type: ignore[arg-type]
        producer=None,  # type: ignore[arg-type]
        bootstrap_servers="unused:9092",
    )


def _names(records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
    return [f"{r.key.decode()}@{r.offset}" for r in records if r.key]


def test_an_escalation_goes_first_with_its_keys_buffered_events_and_the_offset_waits() -> None:
    runner = _runner()
    tp = TopicPartition(TOPIC, 0)
    runner._take({tp: [_record(k, i) for i, k in enumerate("ABCADEF")]})
    runner._take({tp: [_record("A", 7, escalation=True), _record("G", 8)]})

    assert _names(runner._take_expedited(None)) == ["A@0", "A@3", "A@7"]
    assert _names(runner._take_oldest().records) == ["B@1", "C@2", "D@4"]
    runner._advance()
    # Offsets 0 to 4 are handled but 5 is not: a restart must begin there.
    assert runner._pending == {tp: 5}
    assert _names(runner._take_oldest().records) == ["E@5", "F@6", "G@8"]
    runner._advance()
    assert runner._pending == {tp: 9}


def test_records_fetched_again_after_a_rebalance_are_not_buffered_twice() -> None:
    runner = _runner()
    tp = TopicPartition(TOPIC, 0)
    runner._take({tp: [_record("A", 0), _record("B", 1)]})
    # The fetcher restarted from the committed offset 0.
    runner._take({tp: [_record("A", 0), _record("B", 1), _record("C", 2)]})
    assert _names(runner._take_oldest().records) == ["A@0", "B@1", "C@2"]


def test_a_revoked_partitions_buffer_and_offset_are_dropped() -> None:
    runner = _runner()
    kept, lost = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    runner._take({kept: [_record("A", 0)], lost: [_record("B", 0, partition=1)]})
    runner._pending[lost] = 0
    runner._forget_revoked({kept})
    assert _names(runner._take_oldest().records) == ["A@0"]
    runner._advance()
    assert runner._pending == {kept: 1}


def test_chunks_share_partitions_and_keep_each_in_order() -> None:
    runner = _runner(chunk=4)
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    runner._take(
        {
            p0: [_record(k, i) for i, k in enumerate("ABCDE")],
            p1: [_record(k, i, partition=1) for i, k in enumerate("VW")],
        }
    )
    assert _names(runner._take_oldest().records) == ["A@0", "B@1", "V@0", "W@1"]
    assert _names(runner._take_oldest().records) == ["C@2", "D@3", "E@4"]


def test_many_expedited_keys_are_split_into_transactions_each_key_whole() -> None:
    runner = _runner(chunk=3)
    tp = TopicPartition(TOPIC, 0)
    records = [_record(k, i) for i, k in enumerate("AABBCD")]
    records += [_record(k, 6 + i, escalation=True) for i, k in enumerate("ABCD")]
    runner._take({tp: records})
    parts = [_names(p) for p in runner._in_chunks(runner._take_expedited(None))]
    # A key of three fills a transaction of three; two keys of two do not share one.
    assert parts == [["A@0", "A@1", "A@6"], ["B@2", "B@3", "B@7"], ["C@4", "C@8"], ["D@5", "D@9"]]


def test_behind_a_backlog_the_oldest_records_are_committed_after_the_escalations() -> None:
    """An escalation's transaction does not carry the backlog's oldest records: its
    assessment would wait for their scoring (0.25 s at the median, 0.75 s at p95 at the
    benchmark's load). They follow in a transaction of their own."""
    runner = _runner(chunk=3)
    tp = TopicPartition(TOPIC, 0)
    runner._take({tp: [_record(k, i) for i, k in enumerate("ABCDEF")]})
    runner._take({tp: [_record("A", 6, escalation=True)]})
    assert [_names(s.records) for s in runner._round()] == [["A@0", "A@6"], ["B@1", "C@2", "D@3"]]
    # A full expedited transaction leaves the oldest records to one of their own.
    runner._take({tp: [_record("E", 7), _record("E", 8, escalation=True)]})
    assert [_names(s.records) for s in runner._round()] == [["E@4", "E@7", "E@8"], ["F@5"]]
    # No escalation: the oldest alone.
    runner._take({tp: [_record("G", 9)]})
    assert [_names(s.records) for s in runner._round()] == [["G@9"]]


def test_once_caught_up_the_last_few_records_join_the_escalations_transaction() -> None:
    """No backlog: the few records left cost the escalation little, and a transaction's fixed
    statements and computations are saved."""
    runner = _runner(chunk=3)
    tp = TopicPartition(TOPIC, 0)
    runner._take({tp: [_record("A", 0), _record("B", 1), _record("A", 2, escalation=True)]})
    assert [_names(s.records) for s in runner._round()] == [["A@0", "A@2", "B@1"]]


class Fetcher:
    """The consumer as the poll loop sees it: batches the fetcher holds, handed out one per
    `getmany`; nothing left stops the runner after its round."""

    def __init__(self, runner: ReadAheadRunner, tp: TopicPartition) -> None:
        self.runner = runner
        self.tp = tp
        self.batches: list[list[ConsumerRecord[bytes, bytes]]] = []
        self.polls = 0

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    def highwater(self, tp: TopicPartition) -> int | None:
        return None

    async def getmany(
        self, *, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        if self.batches:
            return {self.tp: self.batches.pop(0)}
        self.polls += 1
        if self.polls > 2:  # the fetch after the round's: nothing more will come
            self.runner.stop()
        return {}


async def test_behind_a_backlog_a_claim_fetched_meanwhile_goes_before_the_oldest() -> None:
    """An escalation that reaches the fetcher while the round's escalations are handled goes
    in the same round, ahead of the backlog's oldest records (with its key's earlier records,
    in order), instead of waiting for their transaction and the next round."""
    runner = _runner(chunk=2)
    tp = TopicPartition(TOPIC, 0)
    fetcher = Fetcher(runner, tp)
    fetcher.batches.append([_record(k, i) for i, k in enumerate("ABCDEF")])
    fetcher.batches.append([_record("A", 6, escalation=True)])
    handled: list[list[str]] = []

    async def handle(stage: Stage) -> None:
        handled.append(_names(stage.records))
        if len(handled) == 1:  # C's claim arrives while A's transaction runs
            fetcher.batches.append([_record("C", 7, escalation=True)])

    runner._handle_stage = handle  # type: ignore[method-assign]
    await runner._poll_loop(fetcher)  # type: ignore[arg-type]
    assert handled[:3] == [["A@0", "A@6"], ["C@2", "C@7"], ["B@1", "D@3"]]
    # Every record once, and each key's records handled in offset order.
    everything = [name for stage in handled for name in stage]
    assert sorted(everything, key=lambda n: int(n.split("@")[1])) == [
        f"{k}@{i}" for i, k in enumerate("ABCDEFAC")
    ]
    for key in "ABCDEF":
        offsets = [int(n.split("@")[1]) for n in everything if n.startswith(f"{key}@")]
        assert offsets == sorted(offsets), (key, everything)


async def test_caught_up_no_second_fetch_splits_the_round() -> None:
    """Without a backlog the round is as before: the few records left join the escalation's
    transaction, and nothing is fetched between."""
    runner = _runner(chunk=3)
    tp = TopicPartition(TOPIC, 0)
    fetcher = Fetcher(runner, tp)
    fetcher.batches.append([_record("A", 0), _record("B", 1), _record("A", 2, escalation=True)])
    handled: list[list[str]] = []

    async def handle(stage: Stage) -> None:
        handled.append(_names(stage.records))
        fetcher.batches.append([_record("C", 3 + len(handled), escalation=True)])

    runner._handle_stage = handle  # type: ignore[method-assign]
    await runner._poll_loop(fetcher)  # type: ignore[arg-type]
    assert handled[0] == ["A@0", "A@2", "B@1"]
    assert handled[1] == ["C@4"]


async def test_offsets_of_a_partition_taken_away_are_not_committed() -> None:
    """A partition revoked while a stage ran: its offset is left to its new owner, and the
    offsets of the partitions still assigned are committed (the shared runner's commit)."""
    kept, lost = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    commits: list[dict[TopicPartition, tuple[int, str]]] = []

    class Consumer:
        def assignment(self) -> set[TopicPartition]:
            return {kept}

        async def commit(self, offsets: dict[TopicPartition, tuple[int, str]]) -> None:
            if set(offsets) - self.assignment():
                raise AssertionError("aiokafka refuses to commit an unassigned partition")
            commits.append(offsets)

    runner = _runner()
    runner.consumer = Consumer()  # type: ignore[assignment]
    runner._pending = {kept: 3, lost: 7}
    await runner.commit_pending()
    assert commits == [{kept: (3, "")}]
    assert runner._pending == {}


def test_an_expedited_type_narrowed_by_its_payload_is_sorted_on_the_payload() -> None:
    """`expedite(..., when=...)` holds for the read-ahead too: its buffer decides what goes
    first from the record, decoding it only because the payload decides."""
    runner = _runner(chunk=3)
    runner.handlers.expedite(SellerEscalationFiled, when=lambda e: e.return_id != "B")
    tp = TopicPartition(TOPIC, 0)
    runner._take(
        {tp: [_record("A", 0, escalation=True), _record("B", 1, escalation=True), _record("C", 2)]}
    )
    assert _names(runner._take_expedited(None)) == ["A@0"]
    assert _names(runner._take_oldest().records) == ["B@1", "C@2"]


class Broker:
    """What the read-ahead asks the consumer about its partitions: its assignment, each
    partition's end and the fetcher's position (none: not fetched yet)."""

    def __init__(self, assigned: set[TopicPartition], partitions: int | None = None) -> None:
        self.assigned = assigned
        self.partitions = partitions if partitions is not None else len(assigned)
        self.ends: dict[TopicPartition, int] = {}
        self.positions: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def fetched(self, tp: TopicPartition, *, position: int, end: int) -> None:
        self.positions[tp], self.ends[tp] = position, end


async def _bound(runner: ReadAheadRunner, broker: Broker) -> datetime | None:
    return await runner._expedite_bound(broker, broker.assignment())  # type: ignore[arg-type]


def _committed(runner: ReadAheadRunner, stage: Stage) -> list[str]:
    """The stage's transaction committed: its marks move (what `_handle_stage` does after)."""
    runner._count_handled(
        TOPIC, stage.records, runner._decode_wanted(TOPIC, stage.records), stage.in_order
    )
    return _names(stage.records)


async def test_an_escalation_goes_ahead_only_of_events_within_the_overtake_of_it() -> None:
    """Event time bounds the expedite: the claim waits while it is more than `overtake` ahead
    of what the consumer has counted (before anything is handled, the oldest buffered event):
    its seller's deliveries of those days are not counted yet. It goes first again once the
    consumer has counted to within `overtake` of it."""
    runner = _runner(chunk=2, overtake=timedelta(hours=6))
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    broker = Broker({p0, p1})
    filed = datetime(2026, 3, 10, 12, tzinfo=UTC)
    runner._take(
        {
            p0: [_record("A", 0, at=filed - timedelta(days=3)), _record("B", 1, at=filed)],
            p1: [
                _record("C", 0, partition=1, at=filed - timedelta(hours=1)),
                _record("D", 1, partition=1, escalation=True, at=filed),
            ],
        }
    )
    # A, three days before the claim, heads partition 0: nothing goes ahead of it.
    assert _names(runner._take_expedited(await _bound(runner, broker))) == []
    assert _committed(runner, runner._take_oldest()) == ["A@0", "C@0"]
    # Counted to C's time, an hour before the claim: it goes first.
    assert _names(runner._take_expedited(await _bound(runner, broker))) == ["D@1"]
    # Without a bound it would have gone at once (the runner as it was).
    unbounded = _runner(chunk=2)
    unbounded._take(
        {
            p0: [_record("A", 0, at=filed - timedelta(days=3))],
            p1: [_record("D", 0, partition=1, escalation=True, at=filed)],
        }
    )
    assert _names(unbounded._take_expedited(None)) == ["D@0"]


async def test_late_events_ahead_do_not_hold_a_claim_once_the_consumer_has_counted_to_now() -> None:
    """Live traffic carries late events (a feed entry for a return initiated days ago, a
    partner's batch of hours-old scans) among current ones: what holds a claim back is how far
    the consumer has counted, not the oldest event waiting. An expedited claim does not move
    the mark: it skipped the events before it."""
    runner = _runner(chunk=2, overtake=timedelta(hours=6))
    tp = TopicPartition(TOPIC, 0)
    broker = Broker({tp})
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    runner._take({tp: [_record("A", 0, at=now - timedelta(minutes=1))]})
    assert _committed(runner, runner._take_oldest()) == ["A@0"]
    assert runner._counted[tp] == now - timedelta(minutes=1)
    runner._take(
        {
            tp: [
                _record("B", 1, at=now - timedelta(days=3)),
                _record("C", 2, escalation=True, at=now),
                _record("D", 3, escalation=True, at=now + timedelta(days=2)),
            ]
        }
    )
    # C goes ahead of the late B; D, two days ahead of what was counted, does not.
    bound = await _bound(runner, broker)
    assert bound == now - timedelta(minutes=1) + timedelta(hours=6)
    assert _names(runner._take_expedited(bound)) == ["C@2"]
    # Handled in offset order, D is no mark either (it is an expedited type).
    assert _committed(runner, runner._take_oldest()) == ["B@1", "D@3"]
    assert runner._counted[tp] == now - timedelta(minutes=1)


async def test_a_partition_served_behind_in_event_time_holds_a_claim_back() -> None:
    """Behind a backlog the read-ahead serves partitions equal counts, so one can be days
    behind another in event time: the claim waits for the slowest partition with records
    waiting, not for the most advanced."""
    runner = _runner(chunk=2, overtake=timedelta(hours=6))
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    broker = Broker({p0, p1})
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    runner._take(
        {
            p0: [_record("A", 0, at=now - timedelta(hours=1)), _record("B", 1, at=now)],
            p1: [
                _record("C", 0, partition=1, at=now - timedelta(days=2)),
                _record("D", 1, partition=1, at=now - timedelta(days=2)),
                _record("E", 2, partition=1, escalation=True, at=now),
            ],
        }
    )
    assert _committed(runner, runner._take_oldest()) == ["A@0", "C@0"]
    # Partition 0 has counted to an hour ago, partition 1 to two days ago: E waits.
    assert await _bound(runner, broker) == now - timedelta(days=2) + timedelta(hours=6)
    assert _names(runner._take_expedited(await _bound(runner, broker))) == []


async def test_a_partition_with_records_at_the_broker_not_buffered_holds_a_claim_back() -> None:
    """Nothing buffered is not caught up: a partition whose records the fetcher has not
    handed out yet counts at its mark, and one not fetched at all at none (nothing goes
    ahead). Only a partition whose end the fetcher has reached counts as caught up."""
    runner = _runner(chunk=2, overtake=timedelta(hours=6))
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    broker = Broker({p0, p1})
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    runner._take(
        {
            p1: [
                _record("C", 0, partition=1, at=now - timedelta(hours=1)),
                _record("E", 1, partition=1, escalation=True, at=now),
            ]
        }
    )
    broker.fetched(p1, position=2, end=2)
    # Partition 0 not fetched yet: not known, so nothing goes ahead.
    assert await _bound(runner, broker) == UNKNOWN
    assert _names(runner._take_expedited(await _bound(runner, broker))) == []
    # Its first record handled, two days old; more of it at the broker, none buffered.
    runner._take({p0: [_record("A", 0, at=now - timedelta(days=2))]})
    assert _committed(runner, runner._take_oldest()) == ["C@0", "A@0"]
    broker.fetched(p0, position=1, end=500)
    assert await _bound(runner, broker) == now - timedelta(days=2) + timedelta(hours=6)
    assert _names(runner._take_expedited(await _bound(runner, broker))) == []
    # Its end reached: nothing of it waits, and the claim goes ahead.
    broker.fetched(p0, position=500, end=500)
    assert await _bound(runner, broker) == now + timedelta(hours=6)
    assert _names(runner._take_expedited(await _bound(runner, broker))) == ["E@1"]


def test_a_mark_moves_to_the_latest_fact_of_a_transaction_once_it_committed() -> None:
    """A partition is not in event time order (a partner's late batch): its mark is the
    latest fact handled in offset order, not the last one's; and it moves only when the
    transaction committed, never when the records were taken."""
    runner = _runner(chunk=3, overtake=timedelta(hours=6))
    tp = TopicPartition(TOPIC, 0)
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    runner._take(
        {
            tp: [
                _record("A", 0, at=now - timedelta(hours=1)),
                _record("B", 1, at=now),
                _record("C", 2, at=now - timedelta(days=3)),
            ]
        }
    )
    stage = runner._take_oldest()
    assert tp not in runner._counted
    assert _committed(runner, stage) == ["A@0", "B@1", "C@2"]
    assert runner._counted[tp] == now


def test_a_mark_is_committed_with_its_offset_and_read_back() -> None:
    runner = _runner(overtake=timedelta(hours=6))
    tp = TopicPartition(TOPIC, 0)
    assert runner.offset_metadata(tp) == ""
    at = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    runner._counted[tp] = at
    assert mark_of(OffsetAndMetadata(7, runner.offset_metadata(tp))) == at
    # Another tool's commit (no mark, or not ours) is no mark.
    assert mark_of(OffsetAndMetadata(7, "")) is None
    assert mark_of(OffsetAndMetadata(7, "counted_to=yesterday")) is None


async def test_facts_stamped_on_arrival_do_not_carry_a_mark_past_what_is_counted() -> None:
    """A replay sends days of a world in minutes: its returns and scans carry the world's
    times, but intake stamps a claim and its evidence with its own clock as they arrive, days
    ahead of the facts around them. Handled in offset order, or waiting at a partition's head,
    an evidence item stood for its partition's mark, and then every claim went ahead of days
    of scans with its return's own (a hub's claimed losses counted before the ordinary
    deliveries of the same days). Fraud's marks are read from the facts timed by their sender
    only."""
    world = datetime(2026, 11, 13, 12, tzinfo=UTC)
    wall = world + timedelta(days=23)
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    broker = Broker({p0, p1})

    def backlog(runner: ReadAheadRunner) -> None:
        runner._take(
            {
                p0: [
                    _record("A", 0, at=world - timedelta(days=2)),
                    _evidence("A", 1, at=wall),
                    _record("B", 2, at=world),
                    _record("C", 3, escalation=True, at=wall),
                ],
                p1: [
                    _record("E", 0, partition=1, at=world - timedelta(days=1)),
                    _evidence("E", 1, partition=1, at=wall),
                    _record("G", 2, partition=1, at=world),
                ],
            }
        )

    fraud = _runner(chunk=2, overtake=timedelta(hours=6), as_fraud=True)
    backlog(fraud)
    assert _committed(fraud, fraud._take_oldest()) == ["A@0", "E@0"]
    # Both partitions' heads are evidence stamped now: they stand for nothing, the marks are
    # the scans counted.
    assert await _bound(fraud, broker) == world - timedelta(days=2) + timedelta(hours=6)
    assert _names(fraud._take_expedited(await _bound(fraud, broker))) == []
    assert _committed(fraud, fraud._take_oldest()) == ["A@1", "E@1"]
    # Handled in offset order, the evidence left the marks at the scans' times.
    assert fraud._counted == {p0: world - timedelta(days=2), p1: world - timedelta(days=1)}
    assert await _bound(fraud, broker) == world + timedelta(hours=6)
    # The claim C waits for the scans before it (B, the world's day), in offset order.
    assert _names(fraud._take_expedited(await _bound(fraud, broker))) == []
    assert _names(fraud._take_oldest().records) == ["B@2", "G@2"]

    # Read from every fact time (the runner's default), the evidence at the heads carried
    # both partitions to the present, and the claim went ahead of B.
    plain = _runner(chunk=2, overtake=timedelta(hours=6))
    backlog(plain)
    _committed(plain, plain._take_oldest())
    assert await _bound(plain, broker) == wall + timedelta(hours=6)
    assert _names(plain._take_expedited(await _bound(plain, broker))) == ["C@3"]
