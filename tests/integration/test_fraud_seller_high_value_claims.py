"""A seller's high-value claims add to its claim-rate evidence against its own high-value
deliveries, on real PostgreSQL through fraud's scoring: of two sellers with the same claims in
the same deliveries, four of them high-value, the one whose claims fall on those four is
alerted; the other, whose claims fall on its goods as they come, is not (yet). High-value is
dear for the category (`features.dear`): the dear items here cost ₹4,000, far below the
₹10,000 that made an item high-value until 2026-12-04, but above what the category's
deliveries cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import EventPayload
from tests.support.factories import uid
from tests.support.fraud import (
    claim_abuse_alerts,
    score_events,
    score_ordinary_category,
    seller_journey,
)

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
# Paise: 900 rupees, what the ordinary category's items cost, and 4,000 rupees, dear for it.
CHEAP, DEAR = 90_000, 400_000


async def test_claims_on_the_sellers_few_dear_items_bring_the_alert_sooner(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category = uid("cat")

    await score_ordinary_category(fraud, category, START)
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
        await score_events(fraud, events)

    assert await claim_abuse_alerts(fraud, plain) == []
    found = await claim_abuse_alerts(fraud, picking)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
