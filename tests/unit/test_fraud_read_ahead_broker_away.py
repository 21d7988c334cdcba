"""Fraud's read-ahead with a broker that fetches but does not answer the reads of the other
replicas' marks: a failed read counts those partitions unknown (nothing goes ahead of them) and
is not tried again every round, so rounds keep their pace (pure: no broker, no database)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import TopicPartition

from services.fraud.scoring import consumer as read_ahead
from services.fraud.scoring.base import fact_time
from shared.kafka.consumer import EventHandlers


class _HangingAdmin:
    created = 0

    def __init__(self, **_: Any) -> None:
        _HangingAdmin.created += 1

    async def start(self) -> None:
        await asyncio.sleep(3600)

    async def close(self) -> None:
        return None


class _OneOfTwoPartitions:
    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1}

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", 0)}


async def test_a_failed_read_of_other_replicas_marks_is_not_retried_every_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(read_ahead, "AIOKafkaAdminClient", _HangingAdmin)
    runner = read_ahead.ReadAheadRunner(
        service="fraud",
        group_id="g",
        topics=["t"],
        handlers=EventHandlers(),
        sessionmaker=None,  # type: ignore[arg-type]
        inbox_model=None,  # type: ignore[arg-type]
        producer=None,  # type: ignore[arg-type]
        bootstrap_servers="localhost:1",
        overtake=timedelta(hours=6),
        event_time=fact_time,
    )
    # Longer than GROUP_VIEW_TTL_S: a read that outlasts the cache must not be stale on arrival.
    runner.GROUP_VIEW_TIMEOUT_S = 1.2
    consumer: Any = _OneOfTwoPartitions()
    blocked = []
    for _ in range(4):
        started = time.monotonic()
        marks = await runner._marks_elsewhere(consumer, consumer.assignment())
        blocked.append(time.monotonic() - started)
        assert marks == [read_ahead.UNKNOWN]
    # The first round waits out the budget once; the next ones use the failure, unknown.
    assert blocked[0] < 2 * runner.GROUP_VIEW_TIMEOUT_S + 0.5
    assert max(blocked[1:]) < 0.1, blocked
    assert _HangingAdmin.created == 1
