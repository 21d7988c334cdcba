"""An honest agent carrying a hub's pilferage that starts partway, in fraud's own scoring (real
PostgreSQL, a database of this test's own): its alert from the onset is held as its hub's when
its mates, from that onset on, run as high as it does; over the whole window their honest
weeks hid it."""

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
from shared.events import EventPayload, ReturnInitiated, ReturnShipmentEvent
from tests.conftest import Harness
from tests.integration.test_fraud_hub_agents import _lights, journey
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_hub_onset"
# A Sunday: the onsets' calendar grid (`pilferage.onsets`, every 7 days) falls on day 42.
START = datetime(2026, 1, 4, 9, tzinfo=UTC)
DAYS, ONSET = 56, 42


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def _when(event: EventPayload) -> datetime:
    if isinstance(event, ReturnInitiated):
        return event.initiated_at
    assert isinstance(event, ReturnShipmentEvent)
    return event.occurred_at


async def test_an_agent_carrying_its_hubs_recent_pilferage_is_held_as_the_hubs(
    sessions: async_sessionmaker[Any],
) -> None:
    # Five honest hubs of three agents, a parcel a day each, 3 in 56 lost (5 %). At H-0 the
    # busy AG-0-0 handles 8 parcels a day and its two mates one each; all lose 5 % until day
    # 42, then the hub pilfers: a quarter of the agent's parcels, three of each mate's first
    # five. From day 42 AG-0-0's record tells against the agents (alert-worthy about day 51),
    # but its mates run as high (6 in 18 by then, against an ordinary hub's 5 %): the excess
    # is the hub's. Over the whole window the mates' 42 honest days hide it (8 in 102,
    # p = 0.2), and the agent was alerted.
    per_day = {(0, 0): 8, (0, 1): 1, (0, 2): 1} | {(h, a): 1 for h in range(1, 6) for a in range(3)}
    events: list[EventPayload] = []
    for (h, a), n in per_day.items():
        honest, pilfered = n * ONSET, n * (DAYS - ONSET)
        lights = _lights(round(0.05 * honest), honest)
        if (h, a) == (0, 0):
            lights |= {honest + i for i in _lights(pilfered // 4, pilfered)}
        elif h == 0:
            # The mates' first three of their 14 parcels since the onset.
            lights |= {honest, honest + 2, honest + 4}
        else:
            lights = _lights(3, n * DAYS)
        for i in range(n * DAYS):
            day = START + timedelta(days=i // n, hours=(i % n) + h / 10 + a / 100)
            events += journey(f"H-{h}", f"AG-{h}-{a}", day, i in lights)
    events.sort(key=_when)
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        alerts = {
            (p, e) for p, e in (await session.execute(select(Alert.pattern, Alert.entity_id))).all()
        }
        reasons = [
            r for rs in (await session.execute(select(Assessment.reasons))).scalars() for r in rs
        ]
    held = [
        r
        for r in reasons
        if r.get("code") == "AGENT_PILFERAGE_ONSET"
        and "its hub-mates run high too since" in str(r.get("detail", ""))
    ]
    assert held, "the agent's onset finding was never held as its hub's"
    assert ("PILFERAGE_AGENT", "AG-0-0") not in alerts
    # Nor is any honest agent of the honest hubs alerted.
    assert not {e for p, e in alerts if p == "PILFERAGE_AGENT"}
    # The excess is the hub's, and the hub carries the alert: it is not held as its busy
    # agent's while that agent is held as its.
    assert {e for p, e in alerts if p == "PILFERAGE_HUB"} == {"H-0"}
