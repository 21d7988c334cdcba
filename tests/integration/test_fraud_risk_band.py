"""An entity's risk reads HIGH only where the alert rules would raise on its findings
(`scoring.service.entity_score`): a seller whose three claims all fell on one buyer who shops
widely reads MEDIUM on the pair and MEDIUM on its claim rate, the same claims twice, and no
alert is raised on it, so its stored risk stays MEDIUM; a ring's pair alerts and reads HIGH
(real PostgreSQL, fraud's own scoring, a database per run)."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.fraud.models import Alert, EntityRisk, EntityRiskHistory
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

START = datetime(2026, 4, 6, 9, tzinfo=UTC)
WIDE_BUYER_SELLER = "S-WIDE-BUYER"
RING_SELLER = "S-RING"

journey = functools.partial(
    intact_journey,
    hub="H-RISK",
    category="apparel",
    item_value=150_000,
    description="not the item sold",
)


def when(e: EventPayload) -> datetime:
    at = getattr(e, "filed_at", None) or getattr(e, "occurred_at", None)
    return at or e.initiated_at  # type: ignore[attr-defined, no-any-return]


def sellers_claims_on_one_buyer(
    seller: str, returns_elsewhere: int, day: datetime
) -> list[EventPayload]:
    """One delivery from another buyer, then three separate orders of one buyer, each claimed;
    the buyer's other returns go to ordinary sellers."""
    buyer = uid("B-ONE")
    events = journey(uid("R-OTHER"), seller, uid("B-OK"), day, None, None)
    for n in range(returns_elsewhere):
        events += journey(
            uid("R-ELSE"), f"S-OK-{n % 9}", buyer, day + timedelta(hours=n), None, None
        )
    for n in range(3):
        events += journey(
            uid("R-PAIR"), seller, buyer, day + timedelta(days=1 + n), "WRONG_ITEM", None
        )
    return events


async def test_findings_the_alert_rules_do_not_combine_read_medium_not_high(
    harness: Harness,
) -> None:
    events: list[EventPayload] = []
    # An ordinary marketplace: 300 deliveries to nine sellers, one in twenty claimed, each by
    # its own buyer.
    for i in range(300):
        claim = "WRONG_ITEM" if i % 20 == 3 else None
        events += journey(
            uid("R-OK"), f"S-OK-{i % 9}", uid("B-OK"), START + timedelta(hours=2 * i), claim, None
        )
    day = START + timedelta(days=26)
    events += sellers_claims_on_one_buyer(WIDE_BUYER_SELLER, 10, day)
    events += sellers_claims_on_one_buyer(RING_SELLER, 1, day)
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_risk_band") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            risk = {r.entity_id: r for r in await session.scalars(select(EntityRisk))}
            ever = {(h.entity_id, h.band) for h in await session.scalars(select(EntityRiskHistory))}
            alerted = {a.entity_id for a in await session.scalars(select(Alert))}

    honest = risk[WIDE_BUYER_SELLER]
    # The pair's finding and the claim rate's sequential one, each MEDIUM, no alert: MEDIUM,
    # though their noisy-OR passes 0.8.
    assert WIDE_BUYER_SELLER not in alerted
    assert {r["code"] for r in honest.reasons} == {
        "COLLUSION_SELLER_BUYER",
        "SELLER_CLAIM_RATE_SEQUENTIAL",
    }
    assert all(float(r["contribution"]) < 0.8 for r in honest.reasons)
    assert honest.band == "MEDIUM"
    assert (WIDE_BUYER_SELLER, "HIGH") not in ever
    # A ring's pair alerts: HIGH, as its alert is.
    assert RING_SELLER in alerted
    assert risk[RING_SELLER].band == "HIGH"
