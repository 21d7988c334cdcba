"""A seller's claims' own signs add to its claim-rate evidence, on real PostgreSQL through
fraud's scoring: of two sellers with the same claims in the same deliveries, the one whose
claims are MISSING_ITEM with the weight intact is alerted; the other, whose claims look like
its peers', is not (yet)."""

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


def journey(seller: str, category: str, day: float, claim: str | None) -> list[EventPayload]:
    return seller_journey(seller, category, START + timedelta(days=day), claim)


async def test_claims_missing_items_of_intact_weight_bring_the_alert_sooner(
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
            events += journey(
                f"{category}-peer{s}", category, i * 0.5, "DAMAGED" if i % 20 == 7 else None
            )
        await score(events)
    signed, plain = uid("S-SIGNED"), uid("S-PLAIN")
    for seller, kinds in (
        (signed, ["MISSING_ITEM", "DAMAGED", "MISSING_ITEM", "DAMAGED", "MISSING_ITEM"]),
        (plain, ["DAMAGED"] * 5),
    ):
        # 5 claims in 20 deliveries: about 5x its category, short of the alert on the count.
        events = []
        for i in range(15):
            events += journey(seller, category, 20 + i * 0.2, None)
        for i, kind in enumerate(kinds):
            events += journey(seller, category, 24 + i * 0.2, kind)
        await score(events)

    async def alerts(seller: str) -> list[Any]:
        return await rows(
            fraud,
            "SELECT evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' AND entity_id = :s",
            s=seller,
        )

    assert await alerts(plain) == []
    found = await alerts(signed)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
