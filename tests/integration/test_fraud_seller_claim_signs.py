"""A seller's claims' own signs add to its claim-rate evidence, on real PostgreSQL through
fraud's scoring: of two sellers with the same claims in the same deliveries, the one whose
claims are MISSING_ITEM with the weight intact is alerted; the other, whose claims look like
its peers', is not (yet)."""

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


def journey(seller: str, category: str, day: float, claim: str | None) -> list[EventPayload]:
    return seller_journey(seller, category, START + timedelta(days=day), claim)


async def test_claims_missing_items_of_intact_weight_bring_the_alert_sooner(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category = uid("cat")

    await score_ordinary_category(fraud, category, START)
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
        await score_events(fraud, events)

    assert await claim_abuse_alerts(fraud, plain) == []
    found = await claim_abuse_alerts(fraud, signed)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
