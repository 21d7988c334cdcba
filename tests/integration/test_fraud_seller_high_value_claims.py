"""A seller's high-value claims add to its claim-rate evidence against its own high-value
deliveries, on real PostgreSQL through fraud's scoring: of two sellers with the same claims in
the same deliveries, four of them high-value, the one whose claims fall on those four is
alerted; the other, whose claims fall on its goods as they come, is not (yet)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.support.db import rows
from tests.support.factories import uid
from tests.support.fraud import seller_journey

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
CHEAP, DEAR = 90_000, 2_000_000  # paise: 900 and 20,000 rupees (high-value from 10,000)


async def test_claims_on_the_sellers_few_dear_items_bring_the_alert_sooner(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category = uid("cat")

    async def score(events: list[EventPayload]) -> None:
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())

    # The category: twenty sellers, each claiming DAMAGED on one return in twenty (5 %).
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += seller_journey(
                f"{category}-peer{s}",
                category,
                START + timedelta(days=i * 0.5),
                "DAMAGED" if i % 20 == 7 else None,
            )
        await score(events)
    picking, plain = uid("S-DEAR"), uid("S-PLAIN")
    # Each: 20 deliveries, 4 of them dear, 5 claimed (about 5x its category, short of the
    # alert on the count alone). `picking` claims its four dear items, `plain` one of them.
    # Four high-value claims are too few for the high-value rate test's alert (five events).
    for seller, unclaimed, claimed in (
        (picking, [CHEAP] * 15, [DEAR] * 4 + [CHEAP]),
        (plain, [DEAR] * 3 + [CHEAP] * 12, [DEAR] + [CHEAP] * 4),
    ):
        events = []
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
        await score(events)

    async def alerts(seller: str) -> list[Any]:
        return await rows(
            fraud,
            "SELECT evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' AND entity_id = :s",
            s=seller,
        )

    assert await alerts(plain) == []
    found = await alerts(picking)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
