"""An open alert stands for the events of its pattern that follow it, until it is closed (real
PostgreSQL, fraud's own scoring, a database of this test's own)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, EntityRisk
from services.fraud.scoring.service import assess_event
from shared.events import (
    EventPayload,
    FraudAssessed,
    FraudBand,
    ReturnInitiated,
    ReturnShipmentEvent,
    ShipmentEventType,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, planted_alert, qc_agent_alert

DB = "test_fraud_open_alerts"
START = datetime(2026, 5, 4, 9, tzinfo=UTC)
HUB = "H-ALERTED"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def journey(rid: str, delivered: datetime, delivered_g: int) -> list[EventPayload]:
    """A return through the hub: picked up at 1000 g, delivered at `delivered_g`."""
    out: list[EventPayload] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id="S-1",
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
        (ShipmentEventType.DELIVERED_TO_SELLER, delivered, delivered_g),
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
                hub_id=HUB,
                agent_id="AG-1",
                weight_g=weight,
                pod_otp_verified=True,
                raw_ref=uid("raw"),
            )
        )
    return out


async def delivery(sessions: async_sessionmaker[Any], day: int, grams: int) -> FraudAssessed:
    """Score one journey; return the assessment of its delivery."""
    last: FraudAssessed | None = None
    async with sessions() as session, session.begin():
        for e in journey(uid("R"), START + timedelta(days=day), grams):
            last = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    assert last is not None
    return last


async def test_an_open_pilferage_alert_makes_the_hubs_next_incidents_high_until_closed(
    sessions: async_sessionmaker[Any],
) -> None:
    alert_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            planted_alert(
                "PILFERAGE_HUB",
                "hub",
                HUB,
                raised_at=START,
                alert_id=alert_id,
                action="audit the hub",
                evidence={
                    "code": "HUB_PILFERAGE_RATE_HIGH",
                    "detail": "incident rate 0.30",
                    "numbers": {"p_value": 1e-6},
                },
            )
        )
    # One parcel delivered light: on its own, a hub with one incident is nobody special.
    light = await delivery(sessions, 1, 600)
    assert light.band is FraudBand.HIGH
    top = light.reasons[0]
    assert top.code == "HUB_PILFERAGE_RATE_HIGH"
    assert top.numbers["alert_id"] == str(alert_id)
    assert top.detail.startswith("open alert since")
    # A parcel delivered intact is not what the alert is about.
    intact = await delivery(sessions, 2, 995)
    assert intact.band is not FraudBand.HIGH
    assert all(r.numbers.get("alert_id") != str(alert_id) for r in intact.reasons)
    # Closed (an analyst found nothing): the next incident is judged on its own again.
    async with sessions() as session, session.begin():
        await session.execute(
            update(Alert)
            .where(Alert.alert_id == alert_id)
            .values(status="closed", closed_at=START + timedelta(days=3))
        )
    after = await delivery(sessions, 4, 600)
    assert after.band is not FraudBand.HIGH
    assert all(r.numbers.get("alert_id") != str(alert_id) for r in after.reasons)
    async with sessions() as session:
        assert (
            await session.scalar(select(Alert.status).where(Alert.alert_id == alert_id)) == "closed"
        )


async def agent_risk(sessions: async_sessionmaker[Any]) -> EntityRisk | None:
    async with sessions() as session:
        risk: EntityRisk | None = await session.get(EntityRisk, ("agent", "AG-1"))
    return risk


async def test_an_open_alert_stands_in_its_entitys_risk_whatever_the_next_event_reads(
    sessions: async_sessionmaker[Any],
) -> None:
    """An agent alerted on its QC passes is read on its next deliveries for their losses, a
    test that finds nothing: its risk stays HIGH with the alert as its reason until the alert
    is closed (before: LOW, the alert still open in the queue)."""
    async with sessions() as session, session.begin():
        alert = qc_agent_alert("AG-1", raised_at=START)
        session.add(alert)
    await delivery(sessions, 1, 995)
    risk = await agent_risk(sessions)
    assert risk is not None
    assert risk.band == FraudBand.HIGH.value
    assert risk.reasons[0]["code"] == "AGENT_QC_CONTRADICTION_RATE_HIGH"
    assert risk.reasons[0]["numbers"]["alert_id"] == str(alert.alert_id)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Alert)
            .where(Alert.alert_id == alert.alert_id)
            .values(status="closed", closed_at=START + timedelta(days=2))
        )
    await delivery(sessions, 3, 995)
    risk = await agent_risk(sessions)
    assert risk is not None
    assert risk.band == FraudBand.LOW.value
    assert all(r["numbers"].get("alert_id") != str(alert.alert_id) for r in risk.reasons)
