"""A seller's high-value claims add to its claim-rate evidence against its own high-value
deliveries, on real PostgreSQL through fraud's scoring: of two sellers with the same claims in
the same deliveries, four of them high-value, the one whose claims fall on those four is
alerted; the other, whose claims fall on its goods as they come, is not (yet). High-value is
dear for the category (`features.dear`): the dear items here cost ₹4,000, far below the
₹10,000 that made an item high-value until 2026-12-04, but above what the category's
deliveries cost. On a database of the test's own, copied from the session's ordinary category
(`fraud_db_with_ordinary_category`): the category's peers are every seller the detector
compares with, and no outbox is relayed to the other services while the record is built."""

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

DB = "test_fraud_high_value_claims"

START = ORDINARY_START
# Paise: 900 rupees, what the ordinary category's items cost, and 4,000 rupees, dear for it.
CHEAP, DEAR = 90_000, 400_000


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fraud_db_with_ordinary_category(harness, DB) as sessions:
        yield sessions


async def test_claims_on_the_sellers_few_dear_items_bring_the_alert_sooner(
    sessions: async_sessionmaker[Any],
) -> None:
    # Weighed against the ordinary category: twenty sellers, one claim in twenty (5 %).
    category = ORDINARY_CATEGORY
    picking, plain = uid("S-DEAR"), uid("S-PLAIN")
    # Each: 20 deliveries, 4 of them dear, 5 claimed (about 5x its category, short of the
    # alert on the count alone). `picking` claims its four dear items, `plain` one of them.
    # Four high-value claims are too few for the high-value rate test's alert (five events).
    for seller, unclaimed, claimed in (
        (picking, [CHEAP] * 15, [DEAR] * 4 + [CHEAP]),
        (plain, [DEAR] * 3 + [CHEAP] * 12, [DEAR] + [CHEAP] * 4),
    ):
        events: list[EventPayload] = []
        for i, value in enumerate(unclaimed):
            events += seller_journey(
                seller, category, START + timedelta(days=20 + i * 0.2), None, item_value=value
            )
        for i, value in enumerate(claimed):
            events += seller_journey(
                seller,
                category,
                START + timedelta(days=24 + i * 0.2),
                "DAMAGED",
                item_value=value,
            )
        await score_events(sessions, events)

    assert await claim_abuse_alerts(sessions, plain) == []
    found = await claim_abuse_alerts(sessions, picking)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
