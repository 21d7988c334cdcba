"""Fraud's counters under replicas: a consumer batch keeps its increments and writes them once
at its end, so a replica scoring another partition's events against the same partner, hub and
category rows is not held behind the batch; and the batch scores exactly as if every increment
had been written at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.features.repository import deferred_counters
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, FraudAssessed
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

START = datetime(2026, 6, 1, 9, tzinfo=UTC)


def journeys(count: int, *, sellers: str = "S-HOT", buyers: str = "B") -> list[EventPayload]:
    """Returns of two sellers through one hub, from three buyers, most of them claimed: every
    event touches the same partner, hub and category rows, and a claim names a buyer another
    seller named earlier in the batch (the pairs a deferred batch has not written yet)."""
    events: list[EventPayload] = []
    for n in range(count):
        events += intact_journey(
            uid("R"),
            f"{sellers}-{n % 2}",
            f"{buyers}-{n % 3}",
            START + timedelta(hours=n),
            "DAMAGED" if n % 3 else None,
            "AG-HOT",
            hub="H-HOT",
            category="electronics",
            item_value=150_000,
            description="arrived broken",
        )
    return events


async def _score(session: Any, events: list[EventPayload]) -> list[FraudAssessed]:
    return [await assess_event(session, payload=e, subject_event_id=uuid.uuid4()) for e in events]


def _verdicts(assessed: list[FraudAssessed]) -> list[tuple[float, str, list[str]]]:
    return [(a.score, a.band.value, sorted(r.code for r in a.reasons)) for a in assessed]


async def _counters(sessions: async_sessionmaker[Any]) -> tuple[list[Any], list[Any]]:
    async with sessions() as session:
        counts = (
            await session.execute(
                text(
                    "SELECT entity_type, metric, day, n FROM feature_counts "
                    "WHERE entity_type <> 'return' ORDER BY 1, 2, 3, 4"
                )
            )
        ).all()
        pairs = (
            await session.execute(text("SELECT kind, metric, n FROM pair_counts ORDER BY 1, 2, 3"))
        ).all()
    return list(counts), list(pairs)


async def test_a_deferred_batch_scores_and_counts_as_immediate_writes_do(
    harness: Harness,
) -> None:
    events = journeys(8)
    async with fresh_fraud_db(harness, "test_fraud_counters_now") as now_sessions:
        async with now_sessions() as session, session.begin():
            immediate = await _score(session, events)
        immediate_counters = await _counters(now_sessions)
    async with fresh_fraud_db(harness, "test_fraud_counters_later") as later_sessions:
        async with later_sessions() as session, session.begin():
            async with deferred_counters(session):
                deferred = await _score(session, events)
        deferred_counters_ = await _counters(later_sessions)

    assert _verdicts(deferred) == _verdicts(immediate)
    assert any(a.reasons for a in immediate)  # the comparison is about something
    assert deferred_counters_ == immediate_counters
    assert immediate_counters[0] and immediate_counters[1]


async def _other_replica_scores(sessions: async_sessionmaker[Any], events: list[Any]) -> None:
    """A second replica's batch, refusing to wait more than 2 s for a row lock."""
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL lock_timeout = '2s'"))
        async with deferred_counters(session):
            await _score(session, events)


async def test_a_replica_is_not_held_behind_another_replicas_open_batch(
    harness: Harness,
) -> None:
    async with fresh_fraud_db(harness, "test_fraud_counters_replicas") as sessions:
        # Seed the shared rows, so both replicas update rows that exist.
        # The other replica's returns come from other sellers and buyers (Kafka spreads returns
        # by id): what both share are the partner's, hub's, agent's and category's rows.
        seed, first, control = journeys(1), journeys(3), journeys(3)
        second = journeys(3, sellers="S-OTHER", buyers="B-OTHER")
        async with sessions() as session, session.begin():
            await _score(session, seed)

        # The old way, writing at once: the open batch holds the hot rows and the other
        # replica gives up waiting for them.
        async with sessions() as holder, holder.begin():
            await _score(holder, control)
            try:
                await _other_replica_scores(sessions, second[:3])
            except DBAPIError as error:
                assert "lock" in str(error).lower()
            else:
                raise AssertionError("the immediate writes held no lock the replica needed")
            await holder.rollback()

        # Deferred: the open batch has written nothing yet, so the replica goes through.
        async with sessions() as holder, holder.begin():
            async with deferred_counters(holder):
                await _score(holder, first)
                await asyncio.wait_for(_other_replica_scores(sessions, second), 10)
        replicas_counted = await _counters(sessions)
    # Nothing lost: the same events scored one after another count the same.
    async with fresh_fraud_db(harness, "test_fraud_counters_serial") as serial:
        async with serial() as session, session.begin():
            await _score(session, seed + first + second)
        assert await _counters(serial) == replicas_counted
