"""A hub and the one busy agent handling most of its parcels (an agent serving one small town),
in fraud's own scoring (real PostgreSQL, a database of this test's own): the hub's one-agent rule
and the agent's hub rule answer one question of the pair, whose excess it is, so that the two
cannot hold each other and leave the pilferage unalerted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, Assessment
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.conftest import Harness
from tests.integration.test_fraud_hub_agents import _lights, journey
from tests.integration.test_fraud_pilferage_hub_onset import _when
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_busy_agent"
# A Sunday: the onsets' calendar grid (`pilferage.onsets`, every 7 days) falls on day 49.
START = datetime(2026, 1, 4, 9, tzinfo=UTC)
DAYS, ONSET = 56, 49
# Ordinary hubs and agents lose 5 % of their parcels.
ORDINARY = 0.05


def _network(h0: dict[str, tuple[float, float]]) -> list[EventPayload]:
    """Six hubs' pickups over eight weeks: H-0's agents as `h0` gives them (agent -> parcels
    a day, the share of its parcels lost from day 49 on; 5 % before), five ordinary hubs of
    three agents with a parcel a day each, 5 % of them lost."""
    per_day = {("H-0", a): v for a, v in h0.items()} | {
        (f"H-{h}", f"AG-{h}-{a}"): (1.0, ORDINARY) for h in range(1, 6) for a in range(3)
    }
    events: list[EventPayload] = []
    for (hub, agent), (n, rate) in per_day.items():
        honest, since = round(n * ONSET), round(n * (DAYS - ONSET))
        if hub == "H-0":
            lights = _lights(round(ORDINARY * honest), honest)
            lights |= {honest + i for i in _lights(round(rate * since), since)}
        else:
            lights = _lights(round(ORDINARY * (honest + since)), honest + since)
        for i in range(honest + since):
            day = i / n if i < honest else ONSET + (i - honest) / n
            # Each hub's and agent's parcels at their own minutes of the day.
            minutes = 6 * int(hub[2:]) + 0.6 * int(agent[5:])
            at = START + timedelta(days=int(day), hours=(day % 1) * 12, minutes=minutes)
            events += journey(hub, agent, at, i in lights)
    return sorted(events, key=_when)


async def _score(
    sessions: async_sessionmaker[Any], events: list[EventPayload]
) -> tuple[set[tuple[str, str]], list[str]]:
    """Every event scored in order; the pilferage alerts raised and the hub's findings'
    details."""
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        alerts = {
            (p, e)
            for p, e in (await session.execute(select(Alert.pattern, Alert.entity_id))).all()
            if p.startswith("PILFERAGE_")
        }
        details = [
            str(r.get("detail", ""))
            for rs in (await session.execute(select(Assessment.reasons))).scalars()
            for r in rs
            if str(r.get("code", "")).startswith("HUB_PILFERAGE")
        ]
    return alerts, details


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def test_a_pilfering_hub_whose_parcels_mostly_pass_one_honest_agent_is_the_hubs(
    sessions: async_sessionmaker[Any],
) -> None:
    # From day 49, H-0 loses a quarter of its busy agent's parcels (10 a day) and half of its
    # two thin mates' (a parcel every other day each). Without AG-0-0 the hub's window is too
    # thin to tell (its one-agent rule held the hub as AG-0-0's), while AG-0-0's mates since
    # the onset run as high as it does (its hub rule held it as the hub's): before, neither
    # alerted. The mates' parcels are the evidence that the excess is the hub's.
    alerts, details = await _score(
        sessions,
        _network({"AG-0-0": (10.0, 0.25), "AG-0-1": (0.5, 0.5), "AG-0-2": (0.5, 0.5)}),
    )
    assert alerts == {("PILFERAGE_HUB", "H-0")}
    # Held as one agent's no longer, saying why.
    assert any("not held as one agent's" in d and "run high too" in d for d in details)


async def test_a_pilfering_agent_carrying_most_of_an_honest_hubs_parcels_is_the_agents(
    sessions: async_sessionmaker[Any],
) -> None:
    # The other way round: from day 49 the busy AG-0-0 loses a quarter of its parcels, its
    # thin mate 5 % as before. The mate shows no excess: the hub stays held as the agent's,
    # and the agent alerts.
    alerts, details = await _score(
        sessions, _network({"AG-0-0": (10.0, 0.25), "AG-0-1": (0.5, ORDINARY)})
    )
    assert alerts == {("PILFERAGE_AGENT", "AG-0-0")}
    assert any("carried by one agent (AG-0-0)" in d for d in details)
    assert not any("not held as one agent's" in d for d in details)
