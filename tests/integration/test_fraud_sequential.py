"""Evidence that accumulates, in fraud's own scoring on real PostgreSQL: a seller at several
times its category's claim rate is alerted by the sequential test and its earlier claims are
re-assessed; a flag on a few early claims is cleared once the seller proves ordinary; the
items of one order may share their invoice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, Assessment, WatchlistEntry
from services.fraud.scoring.service import assess_event
from shared.events import (
    EventPayload,
    FraudAssessed,
    FraudBand,
    ReturnInitiated,
    SellerEscalationFiled,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey, planted_alert

DB = "test_fraud_sequential"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> FraudAssessed:
    last: FraudAssessed | None = None
    async with sessions() as session, session.begin():
        for e in events:
            last = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    assert last is not None
    return last


def returns_of(seller: str, day: float, claim: str | None) -> list[EventPayload]:
    return intact_journey(
        uid("R"),
        seller,
        uid("B"),
        START + timedelta(days=day),
        claim,
        "AG-1",
        hub="H-1",
        category="home",
        item_value=90_000,
        description="broken",
    )


async def category_of_ordinary_sellers(sessions: async_sessionmaker[Any]) -> None:
    """Twenty sellers of the category, each claiming on one return in twenty (5 %)."""
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += returns_of(f"S-{s:02d}", i * 0.5, "DAMAGED" if i % 20 == 7 else None)
        await score(sessions, events)


async def test_a_seller_at_three_times_its_category_is_found_and_its_claims_re_assessed(
    sessions: async_sessionmaker[Any],
) -> None:
    await category_of_ordinary_sellers(sessions)
    # 15 % of deliveries claimed, no tell-tale signs: plain DAMAGED claims an hour after.
    bands: list[FraudBand] = []
    for i in range(160):
        last = await score(
            sessions, returns_of("S-ABUSER", i * 0.25, "DAMAGED" if i % 20 in (3, 9, 15) else None)
        )
        if last.escalation_id:
            bands.append(last.band)
    async with sessions() as session:
        alerts = (
            await session.scalars(
                select(Alert).where(Alert.entity_id == "S-ABUSER", Alert.pattern == "CLAIM_ABUSE")
            )
        ).all()
        assert alerts, "the seller's evidence never reached the alert"
        revised = await session.scalar(
            select(Assessment).where(
                Assessment.escalation_id.like("ESC-%"),
                Assessment.revision > 0,
                Assessment.band == "HIGH",
            )
        )
    assert alerts[0].evidence["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
    # Found as its claims accumulate (24 in all): not on the first ones, before the last.
    assert bands[0] is not FraudBand.HIGH and bands[-1] is FraudBand.HIGH
    assert revised is not None, "the claims before the alert were not re-assessed"


async def test_a_flag_on_a_small_sellers_first_claims_is_cleared_when_it_proves_ordinary(
    sessions: async_sessionmaker[Any],
) -> None:
    await category_of_ordinary_sellers(sessions)
    alert_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        # Flagged on its first three deliveries, all claimed.
        session.add(
            planted_alert(
                "CLAIM_ABUSE",
                "seller",
                "S-SMALL",
                raised_at=START,
                alert_id=alert_id,
                evidence={
                    "code": "SELLER_CLAIM_RATE_HIGH",
                    "detail": "3/3",
                    "numbers": {"p_value": 5e-5},
                },
            )
        )
        session.add(
            WatchlistEntry(
                entity_type="seller",
                entity_id="S-SMALL",
                source="automatic",
                reason="alert CLAIM_ABUSE",
                added_by="system",
                added_at=START,
                active=True,
            )
        )
    for i in range(3):
        await score(sessions, returns_of("S-SMALL", i * 0.1, "DAMAGED"))
    # A hundred ordinary deliveries, then one more claim: 4 of 104 is its category's rate.
    events: list[EventPayload] = []
    for i in range(100):
        events += returns_of("S-SMALL", 1 + i * 0.3, None)
    await score(sessions, events)
    claim = await score(sessions, returns_of("S-SMALL", 40, "DAMAGED"))
    assert claim.band is not FraudBand.HIGH
    assert all(r.numbers.get("alert_id") != str(alert_id) for r in claim.reasons)
    async with sessions() as session:
        alert = await session.get(Alert, alert_id)
        watch = await session.scalar(
            select(WatchlistEntry).where(WatchlistEntry.entity_id == "S-SMALL")
        )
    assert alert is not None and alert.status == "closed"
    assert "cleared" in alert.evidence and alert.closed_at is not None
    assert watch is not None and not watch.active and watch.removed_by == "system"


def claim_with_invoice(rid: str, order: str, invoice: str, day: int) -> list[EventPayload]:
    at = START + timedelta(days=day)
    return [
        ReturnInitiated(
            return_id=rid,
            order_id=order,
            seller_id="S-MULTI",
            buyer_id="B-1",
            category="home",
            item_value=90_000,
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=at - timedelta(days=3),
        ),
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id="S-MULTI",
            claim_type="DAMAGED",
            claimed_amount=90_000,
            description="dented",
            channel="EMAIL",
            filed_at=at,
            filed_by="test",
            evidence=[
                {
                    "kind": "INVOICE",
                    "uri": f"https://evidence.example/{order}.pdf",
                    "sha256": invoice,
                    "captured_at": at.isoformat(),
                }
            ],
        ),
    ]


async def test_items_of_one_order_share_its_invoice_and_another_order_may_not(
    sessions: async_sessionmaker[Any],
) -> None:
    invoice = "d" * 64
    await score(sessions, claim_with_invoice("R-A", "O-1", invoice, 1))
    second = await score(sessions, claim_with_invoice("R-B", "O-1", invoice, 1))
    assert all(not r.code.startswith("EVIDENCE_") for r in second.reasons)
    other = await score(sessions, claim_with_invoice("R-C", "O-2", invoice, 2))
    assert other.reasons[0].code == "EVIDENCE_REUSED_EXACT"
    assert other.band is FraudBand.HIGH


async def test_a_claim_ahead_of_its_feed_entry_keeps_its_order_for_the_next_items_claim(
    sessions: async_sessionmaker[Any],
) -> None:
    """Intake emits a claim at once, before the feed names its return: fraud then records the
    claim's evidence without an order. The feed entry that follows gives it the order, so the
    order's next item claimed with the same invoice is not reuse; another order's still is."""
    invoice = "e" * 64
    feed_a, claim_a = claim_with_invoice("R-EARLY", "O-7", invoice, 1)
    first = await score(sessions, [claim_a])
    assert all(not r.code.startswith("EVIDENCE_") for r in first.reasons)
    await score(sessions, [feed_a])
    second = await score(sessions, claim_with_invoice("R-LATER", "O-7", invoice, 2))
    assert all(not r.code.startswith("EVIDENCE_") for r in second.reasons), second.reasons
    other = await score(sessions, claim_with_invoice("R-OTHER", "O-8", invoice, 3))
    assert other.reasons[0].code == "EVIDENCE_REUSED_EXACT"
