"""Hubs weighed by the part of the journey they held, in fraud's own scoring on real PostgreSQL.

One partner's journeys name one hub; another's pass an origin hub and a destination hub, where
a loss on the way is declared. Counted raw, every two-hub hub handles twice the parcels its
losses come from: the two-hub partner's hubs run at half the one-hub partner's rate, the
one-hub hubs look careless beside them, and a two-hub hub losing 3.5 times the ordinary share
of the parcels it receives stands barely above an honest one-hub hub."""

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
from shared.events import EventPayload, ReturnInitiated, ReturnShipmentEvent, ShipmentEventType
from tests.conftest import Harness
from tests.integration.test_fraud_hub_agents import START, _lights
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_exposure"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def trip(hubs: tuple[str, ...], delivered: datetime, lost: bool) -> list[EventPayload]:
    """A desipost return (no agent named) picked up at the first hub, scanned in transit there,
    and delivered at the last hub, or declared lost there."""
    rid = uid("R")
    out: list[EventPayload] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id=uid("S"),
            buyer_id=uid("B"),
            category="home",
            item_value=90_000,
            qc_required=False,
            partner_id="desipost",
            awb=f"AWB-{rid}",
            initiated_at=delivered - timedelta(days=3),
        )
    ]
    scans = [
        (ShipmentEventType.PICKED_UP, delivered - timedelta(days=2), hubs[0], 1000),
        (ShipmentEventType.IN_TRANSIT, delivered - timedelta(days=1), hubs[0], None),
    ]
    if len(hubs) > 1:
        scans.append((ShipmentEventType.AT_HUB, delivered - timedelta(hours=6), hubs[-1], None))
    scans.append(
        (ShipmentEventType.LOST, delivered, hubs[-1], None)
        if lost
        else (ShipmentEventType.DELIVERED_TO_SELLER, delivered, hubs[-1], 1000)
    )
    for kind, at, hub, weight in scans:
        out.append(
            ReturnShipmentEvent(
                event_id=uuid.uuid4(),
                partner_id="desipost",
                partner_event_id=uid("pe"),
                return_id=rid,
                awb=f"AWB-{rid}",
                event_type=kind,
                occurred_at=at,
                hub_id=hub,
                agent_id=None,
                weight_g=weight,
                pod_otp_verified=True,
                raw_ref=uid("raw"),
            )
        )
    return out


async def test_a_receiving_hub_is_weighed_on_the_parcels_it_could_lose(
    sessions: async_sessionmaker[Any],
) -> None:
    # Four one-hub hubs (O-*) lose 4 of 120 parcels; four two-hub hubs (T-*) each receive 120
    # parcels from the next one and lose 4 of them, but T-3 loses 14 (3.5 times). Raw, the
    # T hubs handle 240 parcels each: T-3 at 5.8 % against honest hubs at 1.7 % and 3.3 %.
    n = 120
    losses = {("O-0",): 4, ("O-1",): 4, ("O-2",): 4, ("O-3",): 4}
    losses |= {(f"T-{(h + 1) % 4}", f"T-{h}"): 14 if h == 3 else 4 for h in range(4)}
    lost = {route: _lights(k, n) for route, k in losses.items()}
    events: list[EventPayload] = []
    for i in range(n):
        day = START + timedelta(hours=8 * i)
        for r, (route, light) in enumerate(lost.items()):
            events += trip(route, day + timedelta(minutes=r), i in light)
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        alerted = {
            e
            for (e,) in (
                await session.execute(
                    select(Alert.entity_id).where(Alert.pattern == "PILFERAGE_HUB")
                )
            ).all()
        }
    assert alerted == {"T-3"}
