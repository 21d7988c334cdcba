"""A buyer's refusals at pickup that reach fraud after its later claims, in fraud's own scoring
on real PostgreSQL: the buyer is read as of its latest claim, with the refusals in hand, and
alerted then, as its claims would have alerted it had the refusals come first. No case event
is needed to find it (a decision carries its claim's assessment and tests nothing)."""

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
from tests.support.fraud import fresh_fraud_db, intact_journey

DB = "test_fraud_late_refusals"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
BUYER = "B-LATE"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


def delivered(buyer: str, day: float, claim: str | None) -> list[EventPayload]:
    """A return of `buyer`'s to a seller of its own, QC passed at pickup, delivered intact."""
    return intact_journey(
        uid("R"),
        uid("S"),
        buyer,
        START + timedelta(days=day),
        claim,
        uid("AG"),
        hub="H-1",
        category="fashion",
        item_value=50_000,
        description="not the item sold",
        passed_qc=True,
    )


def refused(buyer: str, day: float) -> list[EventPayload]:
    """A return of `buyer`'s refused at the door by the partner's QC: it goes no further."""
    rid, at = uid("R"), START + timedelta(days=day)
    return [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id=uid("S"),
            buyer_id=buyer,
            category="fashion",
            item_value=50_000,
            qc_required=True,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=at - timedelta(days=1),
        ),
        ReturnShipmentEvent(
            event_id=uuid.uuid4(),
            partner_id="swiftship",
            partner_event_id=uid("pe"),
            return_id=rid,
            awb=f"AWB-{rid}",
            event_type=ShipmentEventType.QC_FAILED,
            occurred_at=at,
            hub_id="H-1",
            agent_id=uid("AG"),
            weight_g=450,
            qc_failure_reason="WRONG_ITEM",
            raw_ref=uid("raw"),
        ),
    ]


async def buyer_alerts(sessions: async_sessionmaker[Any]) -> list[Alert]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(Alert).where(
                        Alert.entity_id == BUYER, Alert.pattern == "WRONG_USED_RETURNS"
                    )
                )
            ).all()
        )


async def test_refusals_that_arrive_after_the_buyers_later_claims_alert_the_buyer(
    sessions: async_sessionmaker[Any],
) -> None:
    # Ordinary buyers: one return each, delivered, unclaimed.
    events: list[EventPayload] = []
    for b in range(40):
        events += delivered(f"B-{b:02d}", b * 0.2, None)
    await score(sessions, events)
    # The buyer's two returns claimed as wrong items on day 10, assessed first: two named
    # claims are short of the test's four.
    await score(sessions, delivered(BUYER, 10, "WRONG_ITEM") + delivered(BUYER, 10.1, "WRONG_ITEM"))
    assert await buyer_alerts(sessions) == []
    # Then three refusals of day 9 reach fraud (a partner's late batch): five wrong items.
    for k in range(3):
        await score(sessions, refused(BUYER, 9 + k * 0.1))
    alerts = await buyer_alerts(sessions)
    assert len(alerts) == 1, "the buyer's claims and refusals were never read together"
    # Raised on the fourth wrong item, the second refusal read with both claims.
    numbers = alerts[0].evidence["numbers"]
    assert numbers["count"] == 4 and numbers["qc_failed"] == 2, numbers
    # Stamped at the latest claim's time: the evidence is complete there.
    assert alerts[0].event_time is not None and alerts[0].event_time >= START + timedelta(days=10)
