"""Hubs and their agents in fraud's own scoring (real PostgreSQL, a database of this test's
own): a hub whose every agent runs high is the hub's practice, found on the hub and not blamed
on its agents; agents are judged against their own hub-mates."""

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
from shared.events import EventPayload, ReturnInitiated, ReturnShipmentEvent, ShipmentEventType
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_hub_agents"
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def journey(hub: str, agent: str, delivered: datetime, light: bool) -> list[EventPayload]:
    """A return picked up by `agent` at `hub` at 1000 g, delivered intact or at 400 g."""
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
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=delivered - timedelta(days=3),
        )
    ]
    for kind, at, weight in (
        (ShipmentEventType.PICKED_UP, delivered - timedelta(days=2), 1000),
        (ShipmentEventType.DELIVERED_TO_SELLER, delivered, 400 if light else 1000),
    ):
        out.append(
            ReturnShipmentEvent(
                event_id=uuid.uuid4(),
                partner_id="swiftship",
                partner_event_id=uid("pe"),
                return_id=rid,
                awb=f"AWB-{rid}",
                event_type=kind,
                occurred_at=at,
                hub_id=hub,
                agent_id=agent,
                weight_g=weight,
                pod_otp_verified=True,
                raw_ref=uid("raw"),
            )
        )
    return out


def _lights(k: int, n: int) -> set[int]:
    """k of n parcels delivered light, evenly spread over the window."""
    return {i for i in range(n) if (i * k) % n < k}


async def test_an_agent_at_an_honest_hub_is_found_though_other_hubs_pilfer(
    sessions: async_sessionmaker[Any],
) -> None:
    # Six hubs of three agents, 80 parcels each. Agents lose two in 80 (2.5 %), but at H-0 and
    # H-1 (pilfering hubs) all their agents lose six; at the honest hub H-4, agent AG-4-0
    # loses ten, five times its hub-mates. Judged on raw rates, the six agents of the
    # pilfering hubs lift the agents' rate and widen their spread until AG-4-0 looks ordinary
    # (a Bayes factor of about 25, below the alert's 200); judged against their own
    # hub-mates, the pilfering hubs' agents are ordinary, and AG-4-0 is not.
    n = 80
    incidents = {
        (h, a): 6 if h in (0, 1) else (10 if (h, a) == (4, 0) else 2)
        for h in range(6)
        for a in range(3)
    }
    lights = {key: _lights(k, n) for key, k in incidents.items()}
    events: list[EventPayload] = []
    for i in range(n):
        day = START + timedelta(hours=12 * i)
        for (h, a), light in lights.items():
            events += journey(
                f"H-{h}", f"AG-{h}-{a}", day + timedelta(minutes=h * 3 + a), i in light
            )
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        alerts = {
            (a.pattern, a.entity_id)
            for a in (await session.execute(select(Alert.pattern, Alert.entity_id))).all()
        }
    assert ("PILFERAGE_AGENT", "AG-4-0") in alerts
    # Nor is any agent of a pilfering hub blamed for its hub.
    assert not {e for p, e in alerts if p == "PILFERAGE_AGENT" and e.startswith(("AG-0", "AG-1"))}
