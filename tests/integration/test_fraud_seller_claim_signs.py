"""A seller's claims' own signs add to its claim-rate evidence, on real PostgreSQL through
fraud's scoring: of two sellers with the same claims in the same deliveries, the one whose
claims are MISSING_ITEM with the weight intact is alerted; the other, whose claims look like
its peers', is not (yet). On a database of the test's own, copied from the session's ordinary
category (`fraud_db_with_ordinary_category`): the category's peers are every seller the
detector compares with, and no outbox is relayed to the other services while the record is
built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import (
    ORDINARY_CATEGORY,
    ORDINARY_START,
    claim_abuse_alerts,
    fraud_db_with_ordinary_category,
    score_events,
    seller_journey,
)

DB = "test_fraud_claim_signs"

START = ORDINARY_START


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fraud_db_with_ordinary_category(harness, DB) as sessions:
        yield sessions


def journey(seller: str, category: str, day: float, claim: str | None) -> list[EventPayload]:
    return seller_journey(seller, category, START + timedelta(days=day), claim)


async def test_claims_missing_items_of_intact_weight_bring_the_alert_sooner(
    sessions: async_sessionmaker[Any],
) -> None:
    # Weighed against the ordinary category: twenty sellers, one claim in twenty (5 %).
    category = ORDINARY_CATEGORY
    signed, plain = uid("S-SIGNED"), uid("S-PLAIN")
    for seller, kinds in (
        (signed, ["MISSING_ITEM", "DAMAGED", "MISSING_ITEM", "DAMAGED", "MISSING_ITEM"]),
        (plain, ["DAMAGED"] * 5),
    ):
        # 5 claims in 20 deliveries: about 5x its category, short of the alert on the count.
        events: list[EventPayload] = []
        for i in range(15):
            events += journey(seller, category, 20 + i * 0.2, None)
        for i, kind in enumerate(kinds):
            events += journey(seller, category, 24 + i * 0.2, kind)
        await score_events(sessions, events)

    assert await claim_abuse_alerts(sessions, plain) == []
    found = await claim_abuse_alerts(sessions, signed)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
