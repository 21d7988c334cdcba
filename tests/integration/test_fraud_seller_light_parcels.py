"""A seller's claims on parcels the partner delivered light, read on real PostgreSQL through
fraud's scoring (FRAUD_SELLER_LIGHT_PARCELS): with the rule on, a seller whose extra claims are
all on parcels weighed light at delivery is not alerted on its claim rate, where the same claims
on intact parcels are, and its counters stay whole (the collusion tests and every other reading
of them see what they saw); with the rule off (the default) the light claims are its trials like
any other and it is alerted. Each record is scored on a database of its own copied from the
session's ordinary category (`fraud_db_with_ordinary_category`: one claim in twenty)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.fraud.scoring.base import default_config
from shared.events import EventPayload, ReturnShipmentEvent, ShipmentEventType
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import (
    ORDINARY_CATEGORY,
    ORDINARY_START,
    claim_abuse_alerts,
    fraud_db_with_ordinary_category,
    rows_of,
    score_events,
    seller_journey,
)

# `seller_journey` picks up at 800 g: below 800 - max(50, 80) = 720 at delivery is light.
LIGHT_G = 560


def delivered_at(events: list[EventPayload], grams: int) -> list[EventPayload]:
    """The journey with the partner's weight at delivery set to `grams`."""
    return [
        e.model_copy(update={"weight_g": grams})
        if isinstance(e, ReturnShipmentEvent)
        and e.event_type == ShipmentEventType.DELIVERED_TO_SELLER
        else e
        for e in events
    ]


def record(seller: str, *, light: bool) -> list[EventPayload]:
    """16 unclaimed deliveries and 4 claims on intact parcels, then 5 more claims on parcels
    delivered light (`light`) or intact: 9 claims in 25 deliveries in a category claiming 1 in
    20, an abuser's count, or 4 in 20 without the five."""
    start = ORDINARY_START + timedelta(days=20)
    events: list[EventPayload] = []
    for i in range(16):
        events += seller_journey(seller, ORDINARY_CATEGORY, start + timedelta(days=i * 0.2), None)
    for i in range(4):
        at = start + timedelta(days=4 + i * 0.2)
        events += seller_journey(seller, ORDINARY_CATEGORY, at, "DAMAGED")
    for i in range(5):
        at = start + timedelta(days=5 + i * 0.2)
        journey = seller_journey(seller, ORDINARY_CATEGORY, at, "DAMAGED")
        events += delivered_at(journey, LIGHT_G) if light else journey
    return events


async def scored(
    harness: Harness, seller: str, *, light: bool, rule: bool
) -> tuple[list[Any], dict[str, int]]:
    """The seller's claim-abuse alerts and its claim-rate counters (summed over days) once its
    record is scored with the rule on or off."""
    config = replace(default_config(), seller_light_parcels=rule)
    name = f"test_fraud_light_{'light' if light else 'intact'}_{int(rule)}"
    async with fraud_db_with_ordinary_category(harness, name) as sessions:
        await score_events(sessions, record(seller, light=light), config)
        rows = await rows_of(
            sessions,
            "SELECT metric, sum(n) FROM feature_counts WHERE entity_type = 'seller' "
            "AND entity_id = :s AND metric IN ('delivered', 'claims') GROUP BY 1",
            s=seller,
        )
        return await claim_abuse_alerts(sessions, seller), {m: int(n) for m, n in rows}


async def test_claims_on_light_parcels_leave_the_claim_rate_test_and_the_counters_stay_whole(
    harness: Harness,
) -> None:
    seller = uid("S-LIGHT")
    # The rule off (the default): nine claims in twenty-five, the light five among them.
    before, counts = await scored(harness, seller, light=True, rule=False)
    assert [a[0]["code"] for a in before] == ["SELLER_CLAIM_RATE_SEQUENTIAL"]
    assert counts == {"delivered": 25, "claims": 9}
    # On: the test reads four in twenty; the counters keep all twenty-five.
    after, counts = await scored(harness, seller, light=True, rule=True)
    assert after == []
    assert counts == {"delivered": 25, "claims": 9}


async def test_the_same_claims_on_intact_parcels_are_alerted_with_the_rule_on(
    harness: Harness,
) -> None:
    seller = uid("S-INTACT")
    found, _ = await scored(harness, seller, light=False, rule=True)
    assert [a[0]["code"] for a in found] == ["SELLER_CLAIM_RATE_SEQUENTIAL"]
