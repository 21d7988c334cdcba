"""A seller's claims that another party's fraud explains leave its claim-abuse record, on real
PostgreSQL through fraud's scoring: an honest seller whose claims pile up on the returns of a
buyer under a wrong/used alert is not alerted for them, and once that buyer's flag is closed
the seller's record is read whole again at its next claim. On a database of the test's own,
copied from the session's ordinary category (`fraud_db_with_ordinary_category`): the
category's peers are every seller the detector compares with, and no outbox is relayed to the
other services while the record is built."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.detectors import returns_abuse
from services.fraud.models import Alert
from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import (
    ORDINARY_CATEGORY,
    ORDINARY_START,
    claim_abuse_alerts,
    fraud_db_with_ordinary_category,
    intact_journey,
    score_events,
    seller_journey,
)

DB = "test_fraud_explained_claims"
START = ORDINARY_START


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fraud_db_with_ordinary_category(harness, DB) as sessions:
        yield sessions


async def flag_buyer(sessions: async_sessionmaker[Any], buyer: str) -> None:
    """An open wrong/used alert on `buyer`, as fraud's buyer test raises one."""
    async with sessions() as session, session.begin():
        session.add(
            Alert(
                alert_id=uuid.uuid4(),
                pattern=returns_abuse.PATTERN,
                entity_type="buyer",
                entity_id=buyer,
                subject_key=f"buyer:{buyer}",
                status="open",
                severity="HIGH",
                summary="wrong/used returns",
                evidence={},
                suggested_action=returns_abuse.ACTION,
                raised_at=datetime.now(UTC),
            )
        )


def record(seller: str, category: str, buyer: str) -> list[EventPayload]:
    """16 unclaimed deliveries, then 4 claims of the seller's own and 5 WRONG_ITEM claims on
    returns of `buyer`: 9 claims in 25 deliveries in a 5 % category, an abuser's count."""
    events: list[EventPayload] = []
    for i in range(16):
        events += seller_journey(seller, category, START + timedelta(days=20 + i * 0.2), None)
    for i in range(4):
        events += seller_journey(seller, category, START + timedelta(days=24 + i * 0.2), "DAMAGED")
    for i in range(5):
        events += intact_journey(
            uid("R"),
            seller,
            buyer,
            START + timedelta(days=25 + i * 0.2),
            "WRONG_ITEM",
            uid("AG"),
            hub=uid("H"),
            category=category,
            item_value=90_000,
            description="not the item sold",
        )
    return events


async def test_claims_on_a_flagged_buyers_returns_do_not_make_the_seller_an_abuser(
    sessions: async_sessionmaker[Any],
) -> None:
    # Weighed against the ordinary category: twenty sellers, one claim in twenty (5 %).
    category = ORDINARY_CATEGORY

    # The same record twice: once with its buyer under a wrong/used alert, once without.
    explained, alone = uid("S-EXPLAINED"), uid("S-ALONE")
    flagged, ordinary = uid("B-WRONG"), uid("B-ORDINARY")
    await flag_buyer(sessions, flagged)
    await score_events(sessions, record(explained, category, flagged))
    await score_events(sessions, record(alone, category, ordinary))

    assert len(await claim_abuse_alerts(sessions, alone)) == 1
    assert await claim_abuse_alerts(sessions, explained) == []

    # The buyer's flag closed: at the seller's next claim its whole record counts again.
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE alerts SET status = 'closed', closed_at = now() WHERE entity_id = :b"),
            {"b": flagged},
        )
    await score_events(
        sessions,
        seller_journey(explained, category, START + timedelta(days=27), "DAMAGED"),
    )
    found = await claim_abuse_alerts(sessions, explained)
    assert len(found) == 1
