"""The consumer exports its lag gauge at most once per interval, not after every poll: under
load a poll returns every few milliseconds, and reading every partition's position each time
cost more than some batches' handling. And an idle consumer, whose partitions' ends and
positions stand still, reads no position at all."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from shared.kafka.consumer import ConsumerRunner, EventHandlers


class _Positions:
    """Answers what the lag export asks of an aiokafka consumer, counting position reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.partitions = {TopicPartition("t", p) for p in range(6)}
        self.end = 10

    def assignment(self) -> set[TopicPartition]:
        return self.partitions

    def highwater(self, tp: TopicPartition) -> int:
        return self.end

    async def position(self, tp: TopicPartition) -> int:
        self.reads += 1
        return 7


def _runner() -> ConsumerRunner:
    nothing: Any = None
    return ConsumerRunner(
        service="lagtest",
        group_id="lagtest",
        topics=["t"],
        handlers=EventHandlers(),
        sessionmaker=nothing,
        inbox_model=nothing,
        producer=nothing,
        bootstrap_servers="127.0.0.1:1",
    )


async def test_lag_is_exported_once_per_interval() -> None:
    runner = _runner()
    consumer: Any = _Positions()
    for _ in range(20):  # twenty polls in quick succession
        await runner.export_lag_if_due(consumer, now=100.0)
    assert consumer.reads == 6  # one read per partition, once
    consumer.end = 11  # a record arrived
    await runner.export_lag_if_due(consumer, now=100.0 + runner.LAG_EXPORT_INTERVAL_S)
    assert consumer.reads == 12


async def test_an_idle_consumer_reads_no_position() -> None:
    runner = _runner()
    consumer: Any = _Positions()
    step = runner.LAG_EXPORT_INTERVAL_S
    await runner.export_lag_if_due(consumer, now=100.0)
    assert consumer.reads == 6
    refresh = int(runner.LAG_REFRESH_S / step)
    for tick in range(1, refresh):  # empty polls until the refresh is due
        await runner.export_lag_if_due(consumer, now=100.0 + tick * step)
    assert consumer.reads == 6
    await runner.export_lag_if_due(consumer, now=100.0 + refresh * step)
    assert consumer.reads == 12  # read anyway once in a while

    runner._position_moves += 1  # a poll handed records out: positions moved
    await runner.export_lag_if_due(consumer, now=140.0)
    assert consumer.reads == 18

    consumer.partitions = {TopicPartition("t", p) for p in range(3)}  # a rebalance
    await runner.export_lag_if_due(consumer, now=142.0)
    assert consumer.reads == 21

    consumer.end = 12  # the partitions' end moved: records waiting
    await runner.export_lag_if_due(consumer, now=144.0)
    assert consumer.reads == 24


async def test_a_position_not_read_is_read_again_at_the_next_export() -> None:
    runner = _runner()
    consumer: Any = _Positions()
    failing = True

    async def position(tp: TopicPartition) -> int:
        consumer.reads += 1
        if failing and tp.partition == 0:
            raise TimeoutError
        return 7

    consumer.position = position
    await runner.export_lag_if_due(consumer, now=100.0)
    assert consumer.reads == 6
    failing = False
    await runner.export_lag_if_due(consumer, now=100.0 + runner.LAG_EXPORT_INTERVAL_S)
    assert consumer.reads == 12  # read again although nothing moved
    await runner.export_lag_if_due(consumer, now=100.0 + 2 * runner.LAG_EXPORT_INTERVAL_S)
    assert consumer.reads == 12
