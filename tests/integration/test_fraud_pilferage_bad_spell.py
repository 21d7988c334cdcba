"""A storm across a midnight, in fraud's own scoring on real PostgreSQL: one hub's eight parcels
lost in one night are set aside as one bad spell, not as its worst day alone, while a hub losing
three times the ordinary share on every day is still alerted, on the same parcel as before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.conftest import Harness
from tests.integration.test_fraud_hub_agents import _lights
from tests.integration.test_fraud_pilferage_exposure import trip
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_bad_spell"
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def test_a_storm_across_midnight_is_one_bad_spell_and_a_practice_still_alerts(
    sessions: async_sessionmaker[Any],
) -> None:
    # Eight one-hub hubs receive 240 parcels over 40 days (one every 4 hours) and lose 6 of
    # them (2.5 %). P loses 18 (3 times), spread over the days. S runs a little high by
    # luck (10, 4.2 %), and a storm loses eight more of its parcels in one night, declared
    # every 90 minutes from 20:00 UTC: four before midnight, four after. The worst day alone
    # (four) left the other four in S's record, 14 incidents in 244 parcels, and S alerted
    # four days after the storm.
    n = 240
    losses = {f"H-{h}": 6 for h in range(6)} | {"S": 10, "P": 18}
    timed: list[tuple[datetime, list[EventPayload], str]] = []
    for hub, k in losses.items():
        light = _lights(k, n)
        for i in range(n):
            at = START + timedelta(hours=960 / n * i, minutes=len(timed) % 50)
            timed.append((at, trip((hub,), at, i in light), hub))
    storm = START.replace(hour=20) + timedelta(days=20)
    for j in range(8):
        at = storm + timedelta(minutes=90 * j)
        timed.append((at, trip(("S",), at, True), "S"))
    timed.sort(key=lambda x: x[0])
    async with sessions() as session, session.begin():
        for _, events, _ in timed:
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        alerts = {
            e: t
            for e, t in (
                await session.execute(
                    select(Alert.entity_id, Alert.event_time).where(
                        Alert.pattern == "PILFERAGE_HUB"
                    )
                )
            ).all()
        }
    assert set(alerts) == {"P"}
    # P's alert came with the parcel it came with before bad spells were set aside whole.
    assert alerts["P"] == P_ALERTED_AT


# The event time of the parcel that brought P its alert with the worst day set aside alone.
P_ALERTED_AT = datetime(2026, 4, 9, 5, 7, tzinfo=UTC)
