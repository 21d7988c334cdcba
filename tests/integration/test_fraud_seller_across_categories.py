"""A shop selling in seven categories, claiming three times its peers' rate in each, is alerted
on its whole record through fraud's scoring on real PostgreSQL: three claims in twelve
deliveries per category never reach the test's five events in any one of them, but 21 claims
in 84 deliveries against its categories' honest rates do (`claim_abuse.whole_record`). A shop
claiming one in twelve everywhere, a little above its peers, is not. On a database of the
test's own (`fresh_fraud_db`): its categories' peers are every seller the detector compares
with, and no outbox is relayed to the other services while the record is built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import EventPayload, FraudBand
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import claims_scored, fresh_fraud_db, rows_of, seller_journey

DB = "test_fraud_across_categories"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


# About 600 deliveries scored one by one: more than the default five minutes on a loaded
# two-core machine.
@pytest.mark.timeout(900)
async def test_a_shop_abusing_in_every_category_is_alerted_on_its_whole_record(
    sessions: async_sessionmaker[Any],
) -> None:
    categories = [uid(f"cat{i}") for i in range(7)]

    async def score(events: list[EventPayload]) -> list[Any]:
        return await claims_scored(sessions, events)

    # Each category: two ordinary sellers, two claims in thirty deliveries each (6.7 %).
    for category in categories:
        for p in range(2):
            events: list[EventPayload] = []
            for i in range(30):
                events += seller_journey(
                    f"{category}-peer{p}",
                    category,
                    START + timedelta(days=i / 2),
                    "DAMAGED" if i in (7, 22) else None,
                )
            await score(events)

    abuser, honest = uid("S-SHOP-ABUSE"), uid("S-SHOP-HONEST")
    abuser_claims = []
    # Twelve deliveries in each category, the categories in turn, four a day.
    for i in range(12):
        for c, category in enumerate(categories):
            at = START + timedelta(days=16 + (i * 7 + c) / 4)
            abuser_claims += await score(
                seller_journey(abuser, category, at, "DAMAGED" if i % 4 == 1 else None)
            )
            await score(seller_journey(honest, category, at, "DAMAGED" if i == 5 else None))

    async def alerts(seller: str) -> list[Any]:
        return await rows_of(
            sessions,
            "SELECT status, evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' AND entity_id = :s",
            s=seller,
        )

    found = await alerts(abuser)
    assert [status for status, _ in found] == ["open"], found
    numbers = found[0][1]["numbers"]
    # Raised on its record in several categories, never more than three claims in one.
    assert numbers["trials"] > 12 and numbers["count"] > 5, numbers
    assert abuser_claims[-1].band is FraudBand.HIGH
    assert await alerts(honest) == []
