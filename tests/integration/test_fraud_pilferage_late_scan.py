"""A scan that arrives after its journey's end and completes the pilferage counts (a pickup
weight revealing the drop) runs the tests the end ran, as of the end, in fraud's own scoring on
real PostgreSQL: a pilfering hub whose pickups are all sent late is alerted by the late scan
that completes its evidence, stamped with the delivery's time, not by a later delivery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, ReturnShipmentEvent, ShipmentEventType
from tests.conftest import Harness
from tests.integration.test_fraud_hub_agents import START, _lights, journey
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_late_scan"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def test_a_late_pickup_scan_that_reveals_the_drop_runs_the_hubs_test(
    sessions: async_sessionmaker[Any],
) -> None:
    # Five honest hubs of three agents lose two parcels in 60 (3 %); at H-P every agent loses
    # twelve (20 %), and every H-P pickup scan is sent after its delivery: each delivery is
    # counted without its pickup weight, and only the late pickup reveals its drop.
    n = 60
    events: list[EventPayload] = []
    late: dict[uuid.UUID, datetime] = {}  # a late pickup scan's id -> its delivery's time
    for i in range(n):
        day = START + timedelta(hours=12 * i)
        for h in range(5):
            for a in range(3):
                at = day + timedelta(minutes=h * 3 + a)
                events += journey(f"H-{h}", f"AG-{h}-{a}", at, i in _lights(2, n))
        for a in range(3):
            at = day + timedelta(minutes=30 + a)
            initiated, pickup, delivered = journey("H-P", f"AG-P-{a}", at, i in _lights(12, n))
            assert isinstance(pickup, ReturnShipmentEvent)
            assert pickup.event_type == ShipmentEventType.PICKED_UP
            events += [initiated, delivered, pickup]
            late[pickup.event_id] = at
    async with sessions() as session, session.begin():
        for e in events:
            subject = e.event_id if isinstance(e, ReturnShipmentEvent) else uuid.uuid4()
            await assess_event(session, payload=e, subject_event_id=subject)
    async with sessions() as session:
        alerts = (
            await session.execute(
                select(Alert.subject_event_id, Alert.event_time).where(
                    Alert.pattern == "PILFERAGE_HUB", Alert.entity_id == "H-P"
                )
            )
        ).all()
    assert alerts, "the pilfering hub was never alerted"
    ((subject, event_time),) = alerts
    # Raised by a late pickup scan (a terminal scan could only read the drops revealed before
    # it), stamped with the time of the delivery whose record it completed.
    assert subject in late
    assert event_time == late[subject]
