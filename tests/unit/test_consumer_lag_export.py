"""The consumer exports its lag gauge at most once per interval, not after every poll: under
load a poll returns every few milliseconds, and reading every partition's position each time
cost more than some batches' handling."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from shared.kafka.consumer import ConsumerRunner, EventHandlers


class _Positions:
    """Answers what the lag export asks of an aiokafka consumer, counting position reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.partitions = {TopicPartition("t", p) for p in range(6)}

    def assignment(self) -> set[TopicPartition]:
        return self.partitions

    def highwater(self, tp: TopicPartition) -> int:
        return 10

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
    await runner.export_lag_if_due(consumer, now=100.0 + runner.LAG_EXPORT_INTERVAL_S)
    assert consumer.reads == 12
