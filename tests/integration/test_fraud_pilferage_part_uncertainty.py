"""A hub weighed by a part rate read off a few other hubs' few incidents, in fraud's own scoring
on real PostgreSQL (`pilferage.exposure_of`, `pilferage.with_exposure_uncertainty`).

Four hubs alone hold one-hub journeys, all four honest at one rate; by chance two run hot and
two cold. Each hub's rate for its part of the journey is read off the other three, so a hot
hub's is a cold hub's (a handful of incidents), its parcels weigh as fewer than they are, and its
honest luck read against that point weight looked like pilferage: on the world written from the
specification two such hubs were alerted. Carried into the hub's honest population, the
weight's uncertainty keeps them below the alert, while a hub pilfering at about four times its
part's rate among the same four is still found."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.conftest import Harness
from tests.integration.test_fraud_hub_agents import START, _lights
from tests.integration.test_fraud_pilferage_exposure import trip
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_part_uncertainty"
PARCELS = 160


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def hubs_alerted(sessions: async_sessionmaker[Any], one_hub_losses: list[int]) -> set[str]:
    """Scores a network in time order: four one-hub hubs (O-*) losing `one_hub_losses` of their
    parcels, and six two-hub hubs (T-*) each receiving parcels from the next and losing 5 of
    them (3.1 %); every hub handles `PARCELS` parcels in each part it holds. Returns the hubs
    alerted for pilferage."""
    losses = {(f"O-{h}",): k for h, k in enumerate(one_hub_losses)}
    losses |= {(f"T-{(h + 1) % 6}", f"T-{h}"): 5 for h in range(6)}
    lost = {route: _lights(k, PARCELS) for route, k in losses.items()}
    events: list[EventPayload] = []
    for i in range(PARCELS):
        day = START + timedelta(hours=8 * i)
        for r, (route, light) in enumerate(lost.items()):
            events += trip(route, day + timedelta(minutes=r), i in light)
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        return {
            e
            for (e,) in (
                await session.execute(
                    select(Alert.entity_id).where(Alert.pattern == "PILFERAGE_HUB")
                )
            ).all()
        }


async def test_honest_hubs_read_off_a_cold_hubs_handful_are_not_alerted(
    sessions: async_sessionmaker[Any],
) -> None:
    # 25 incidents in 640 one-hub parcels (3.9 %), split 12, 10, 1, 2. O-0's part rate is read
    # off O-1, O-2 and O-3: their median is O-3's 2 in 160. With the point weight, O-0 (12 in
    # 160) read 8.6 in log Bayes factor and O-1 6.6, the alert at 5.3; with the weight's
    # uncertainty (the three others scatter far beyond their 13 incidents' binomial noise),
    # both stay below 2.
    assert await hubs_alerted(sessions, [12, 10, 1, 2]) == set()


async def test_a_hub_pilfering_among_few_hubs_of_its_part_is_still_found(
    sessions: async_sessionmaker[Any],
) -> None:
    # O-0 loses 21 of 160 (13 %) where its three others lose 5 or 6 (3.6 %): the others agree
    # among themselves, so its weight is known about as well as their 17 incidents tell.
    assert await hubs_alerted(sessions, [21, 6, 5, 6]) == {"O-0"}
