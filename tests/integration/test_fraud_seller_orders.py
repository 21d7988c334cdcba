"""A seller's multi-item orders read on real PostgreSQL through fraud's scoring
(FRAUD_SELLER_ORDER_TRIALS): an honest seller whose orders of three items come back and are
claimed together is not alerted, where counted item by item it was; an abuser of single-item
orders with the same claims in the same deliveries is alerted as before. Each record is scored
on a database of its own copied from the session's ordinary category
(`fraud_db_with_ordinary_category`: twenty sellers, one claim in twenty)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.fraud.scoring.base import default_config
from shared.events import EventPayload, ReturnInitiated
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


def of_order(events: list[EventPayload], order_id: str) -> list[EventPayload]:
    """The journey's events, its return in order `order_id`."""
    return [
        e.model_copy(update={"order_id": order_id}) if isinstance(e, ReturnInitiated) else e
        for e in events
    ]


def record(seller: str, *, multi_item: bool) -> list[EventPayload]:
    """Thirty ordinary deliveries, one claimed, then three faulty lots of three items each,
    every item claimed (ten claims in thirty-nine deliveries against the category's one in
    twenty). `multi_item`: each lot is one order of three items returned together; otherwise
    nine orders of one item."""
    start = ORDINARY_START + timedelta(days=20)
    events: list[EventPayload] = []
    for i in range(30):
        claim = "DAMAGED" if i == 11 else None
        events += seller_journey(seller, ORDINARY_CATEGORY, start + timedelta(days=i * 0.2), claim)
    for lot in range(3):
        order = uid("O-LOT")
        at = start + timedelta(days=7 + lot * 1.5)
        for item in range(3):
            journey = seller_journey(
                seller, ORDINARY_CATEGORY, at + timedelta(minutes=item), "DAMAGED"
            )
            events += of_order(journey, order) if multi_item else journey
    return events


async def alerts(harness: Harness, seller: str, *, multi_item: bool, by_orders: bool) -> list[Any]:
    config = replace(default_config(), seller_order_trials=by_orders)
    name = f"test_fraud_orders_{'multi' if multi_item else 'single'}_{int(by_orders)}"
    async with fraud_db_with_ordinary_category(harness, name) as sessions:
        await score_events(sessions, record(seller, multi_item=multi_item), config)
        return await claim_abuse_alerts(sessions, seller)


async def test_an_honest_seller_of_multi_item_orders_claimed_together_is_not_alerted(
    harness: Harness,
) -> None:
    seller = uid("S-ORDERS")
    # Counted item by item (the rule off, as before it), nine claims of three faulty lots
    # read as nine claims and the seller is alerted.
    before = await alerts(harness, seller, multi_item=True, by_orders=False)
    assert [a[0]["code"] for a in before] == ["SELLER_CLAIM_RATE_SEQUENTIAL"]
    # One trial per order: four claims in thirty-three trials, and no alert.
    assert await alerts(harness, seller, multi_item=True, by_orders=True) == []


async def test_an_abuser_of_single_item_orders_is_alerted_as_before(harness: Harness) -> None:
    seller = uid("S-SINGLE")
    found = await alerts(harness, seller, multi_item=False, by_orders=True)
    assert [a[0]["code"] for a in found] == ["SELLER_CLAIM_RATE_SEQUENTIAL"]
    assert "orders_shared" not in found[0][0]["numbers"]
