"""A wrong/used buyer whose returns' delivery scans reach fraud after the claims naming it, in
fraud's own scoring on real PostgreSQL. A claim names its buyer on arrival, whatever its scans
(`features.service.count_claim_scans`), and a late delivery adds a trial the buyer's test already
read (never fewer trials than named claims, `stats.rate_test`): the buyer is alerted at the same
claim as with its scans in order, stamped alike, and the late scans' re-assessments
(`service.reassess_claim`, whose buyer path raises an alert due where the buyer's record ends at
the claim) neither raise it twice nor clear it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, ReturnShipmentEvent, ShipmentEventType
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, intact_journey

DB = "test_fraud_late_scan_buyers"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
BUYER = "B-LATE-SCANS"
RETURNS = 12


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


def journey(buyer: str, i: int, claim: str | None) -> list[EventPayload]:
    """Return `i` of `buyer`'s, to a seller of its own, passed at QC and delivered intact."""
    return intact_journey(
        f"R-{buyer}-{i:03d}",
        f"S-{buyer}-{i:03d}",
        buyer,
        START + timedelta(days=i * 0.5),
        claim,
        f"AG-{i % 3}",
        hub="H-1",
        category="fashion",
        item_value=50_000,
        description="not the item sold",
        passed_qc=True,
    )


def is_delivery(e: EventPayload) -> bool:
    return (
        isinstance(e, ReturnShipmentEvent) and e.event_type == ShipmentEventType.DELIVERED_TO_SELLER
    )


async def ordinary_buyers(sessions: async_sessionmaker[Any]) -> None:
    """Forty buyers, one return each, delivered and unclaimed."""
    events: list[EventPayload] = []
    for b in range(40):
        events += journey(f"B-{b:02d}", b % 20, None)
    await score(sessions, events)


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


async def first_alerted(sessions: async_sessionmaker[Any], *, late: bool) -> int | None:
    """Score the buyer's returns, each claimed as a wrong item, until its first alert; with
    `late`, each delivery scan reaches fraud after its claim, in a poll of its own. The index
    of the return whose events raised the alert."""
    for i in range(RETURNS):
        events = journey(BUYER, i, "WRONG_ITEM")
        if late:
            await score(sessions, [e for e in events if not is_delivery(e)])
            await score(sessions, [e for e in events if is_delivery(e)])
        else:
            await score(sessions, events)
        if await buyer_alerts(sessions):
            return i
    return None


async def test_a_buyers_late_delivery_scans_alert_it_at_the_same_claim(harness: Harness) -> None:
    async with fresh_fraud_db(harness, f"{DB}_in_order") as sessions:
        await ordinary_buyers(sessions)
        in_order = await first_alerted(sessions, late=False)
        alerts = await buyer_alerts(sessions)
    assert in_order is not None, "the buyer was never alerted with its scans in order"
    async with fresh_fraud_db(harness, f"{DB}_late") as sessions:
        await ordinary_buyers(sessions)
        late = await first_alerted(sessions, late=True)
        assert late is not None, "the buyer was never alerted with its deliveries late"
        # Two more of the buyer's claims, their deliveries late too: re-assessed, the buyer
        # neither alerted again nor cleared.
        for i in range(late + 1, late + 3):
            events = journey(BUYER, i, "WRONG_ITEM")
            await score(sessions, [e for e in events if not is_delivery(e)])
            await score(sessions, [e for e in events if is_delivery(e)])
        late_alerts = await buyer_alerts(sessions)
    assert late == in_order, (late, in_order)
    assert len(late_alerts) == 1 and late_alerts[0].status == "open"
    # Stamped at its claim's time, as in order.
    assert late_alerts[0].event_time == alerts[0].event_time
    assert late_alerts[0].evidence["code"] == alerts[0].evidence["code"]
