"""The seller-buyer pair test counts a multi-item order once: an honest seller whose one buyer
returned and claimed the two items of one order is not a ring, while a seller claiming on
every one of a buyer's separate orders still is (real PostgreSQL, fraud's own scoring, a
database per run)."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.fraud.models import Alert, Assessment
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, ReturnInitiated
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

START = datetime(2026, 4, 6, 9, tzinfo=UTC)
HONEST_SELLER = "S-ONE-ORDER"
RING_SELLER = "S-RING-ORDERS"

journey = functools.partial(
    intact_journey,
    hub="H-PAIR",
    category="apparel",
    item_value=150_000,
    description="not the item sold",
)


def in_order(events: list[EventPayload], order_id: str) -> list[EventPayload]:
    """The journey's return initiated as an item of `order_id`."""
    return [
        e.model_copy(update={"order_id": order_id}) if isinstance(e, ReturnInitiated) else e
        for e in events
    ]


def when(e: EventPayload) -> datetime:
    at = getattr(e, "filed_at", None) or getattr(e, "occurred_at", None)
    return at or e.initiated_at  # type: ignore[attr-defined, no-any-return]


async def test_one_multi_item_order_is_one_trial_of_the_pair_and_separate_orders_are_not(
    harness: Harness,
) -> None:
    honest_buyer, ring_buyer = uid("B-ORDER"), uid("B-RING")
    events: list[EventPayload] = []
    # An ordinary marketplace: 300 deliveries to nine sellers, one in twenty claimed, each by
    # its own buyer.
    for i in range(300):
        claim = "WRONG_ITEM" if i % 20 == 3 else None
        events += journey(
            uid("R-OK"), f"S-OK-{i % 9}", uid("B-OK"), START + timedelta(hours=2 * i), claim, None
        )
    day = START + timedelta(days=26)
    # The honest seller's first deliveries: another buyer's return, then the two items of one
    # order of one buyer, both claimed together; that buyer's third return went elsewhere.
    events += journey(uid("R-ONE"), HONEST_SELLER, uid("B-OK"), day, None, None)
    events += journey(uid("R-ELSE"), "S-OK-1", honest_buyer, day, None, None)
    order = uid("O-TWO")
    for n in range(2):
        events += in_order(
            journey(
                uid("R-TWO"),
                HONEST_SELLER,
                honest_buyer,
                day + timedelta(hours=3, minutes=n),
                "WRONG_ITEM",
                None,
            ),
            order,
        )
    # The ring: three separate orders of one buyer, every one claimed.
    events += journey(uid("R-RING-OK"), RING_SELLER, uid("B-OK"), day, None, None)
    for n in range(3):
        events += journey(
            uid("R-RING"), RING_SELLER, ring_buyer, day + timedelta(days=1 + n), "WRONG_ITEM", None
        )
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_pair_orders") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            assessed = list((await session.scalars(select(Assessment))).all())

    def pair_strength(buyer: str) -> float:
        """The strongest seller-buyer pair finding on the buyer's claims."""
        return max(
            (
                float(r["contribution"])
                for a in assessed
                for r in a.reasons
                if r["code"] == "COLLUSION_SELLER_BUYER"
                and (r.get("numbers") or {}).get("buyer_id") == buyer
            ),
            default=0.0,
        )

    # One order claimed as a whole: one claimed trial, not a pair claiming on every return.
    assert pair_strength(honest_buyer) < 0.5
    # Three orders, three claims: the pair still stands out.
    assert pair_strength(ring_buyer) >= 0.5


HONEST_HOME = "c" * 64
RING_HOME = "d" * 64
HOUSEHOLD_SELLER = "S-HOUSE-ORDER"
HOUSEHOLD_RING_SELLER = "S-HOUSE-RING"


def at_home(events: list[EventPayload], home: str) -> list[EventPayload]:
    """The journey's return initiated by a buyer seen at `home` (an address hash)."""
    return [
        e.model_copy(update={"buyer_address_hash": home}) if isinstance(e, ReturnInitiated) else e
        for e in events
    ]


async def test_a_households_multi_item_order_is_one_trial_of_the_household(
    harness: Harness,
) -> None:
    """Two accounts at one address: one claims the two items of one order together, the other
    one return, all to one honest seller. Counted by item the household claimed on 3 of 3
    returns, a ring's record; by order 2 of 2, which is not. A household claiming on three
    separate orders still stands out."""
    home, mate = uid("B-HOME"), uid("B-MATE")
    ring, ring_mate = uid("B-RHOME"), uid("B-RMATE")
    events: list[EventPayload] = []
    for i in range(300):
        claim = "WRONG_ITEM" if i % 20 == 3 else None
        events += journey(
            uid("R-OK"), f"S-OK-{i % 9}", uid("B-OK"), START + timedelta(hours=2 * i), claim, None
        )
    day = START + timedelta(days=26)
    events += journey(uid("R-ONE"), HOUSEHOLD_SELLER, uid("B-OK"), day, None, None)
    order = uid("O-TWO")
    for n in range(2):
        events += at_home(
            in_order(
                journey(
                    uid("R-TWO"),
                    HOUSEHOLD_SELLER,
                    home,
                    day + timedelta(hours=3, minutes=n),
                    "WRONG_ITEM",
                    None,
                ),
                order,
            ),
            HONEST_HOME,
        )
    events += at_home(
        journey(uid("R-MATE"), HOUSEHOLD_SELLER, mate, day + timedelta(days=2), "WRONG_ITEM", None),
        HONEST_HOME,
    )
    # The ring: the same household's shape, three separate orders.
    events += journey(uid("R-RING-OK"), HOUSEHOLD_RING_SELLER, uid("B-OK"), day, None, None)
    for n, account in enumerate((ring, ring, ring_mate)):
        events += at_home(
            journey(
                uid("R-RING"),
                HOUSEHOLD_RING_SELLER,
                account,
                day + timedelta(days=n),
                "WRONG_ITEM",
                None,
            ),
            RING_HOME,
        )
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_household_orders") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            assessed = list((await session.scalars(select(Assessment))).all())
            alerts = list((await session.scalars(select(Alert))).all())

    def household_strength(seller: str) -> float:
        """The strongest household pair finding on the seller's claims."""
        return max(
            (
                float(r["contribution"])
                for a in assessed
                for r in a.reasons
                if r["code"] == "COLLUSION_SELLER_BUYER"
                and (r.get("numbers") or {}).get("household_accounts")
                and (r.get("numbers") or {}).get("entity") == f"seller:{seller}"
            ),
            default=0.0,
        )

    assert household_strength(HOUSEHOLD_SELLER) < 0.5
    assert not any(a.entity_id in (HOUSEHOLD_SELLER, home, mate) for a in alerts)
    assert household_strength(HOUSEHOLD_RING_SELLER) >= 0.5


AGENT = "AG-ORDERS"
RING_AGENT = "AG-RING-ORDERS"


def picked_up(
    rid: str, seller: str, buyer: str, delivered: datetime, claim: str | None, agent: str
) -> list[EventPayload]:
    """A return picked up and passed at QC by `agent`, delivered intact, claimed an hour later
    if `claim`."""
    return intact_journey(
        rid,
        seller,
        buyer,
        delivered,
        claim,
        agent,
        hub="H-AGENT",
        category="home",
        item_value=180_000,
        description="not the item we sold",
        partner="rapidroute",
        passed_qc=True,
        weight_g=900,
        photo=False,
    )


async def test_an_orders_items_picked_up_together_are_one_trial_of_the_agent_buyer_pair(
    harness: Harness,
) -> None:
    """A buyer whose two-item order and one more return, all picked up by one agent, were
    claimed as the wrong item: 3 of 3 disputed by item, 2 of 2 by order. A buyer whose three
    separate orders with another agent were all disputed still stands out."""
    honest_buyer, ring_buyer = uid("B-AG-ORDER"), uid("B-AG-RING")
    events: list[EventPayload] = []
    for i in range(240):
        claim = "WRONG_ITEM" if i % 21 == 1 else None
        events += picked_up(
            uid("R-OK"),
            f"S-OK-{i % 9}",
            uid("B-OK"),
            START + timedelta(hours=3 * i),
            claim,
            f"AG-OK-{i % 6}",
        )
    day = START + timedelta(days=31)
    events += picked_up(uid("R-AG-OK"), "S-OK-1", uid("B-OK"), day, None, AGENT)
    events += picked_up(uid("R-AG-OK"), "S-OK-2", uid("B-OK"), day, None, RING_AGENT)
    order = uid("O-AG-TWO")
    for n in range(2):
        events += in_order(
            picked_up(
                uid("R-AG-TWO"),
                "S-OK-3",
                honest_buyer,
                day + timedelta(hours=3, minutes=n),
                "WRONG_ITEM",
                AGENT,
            ),
            order,
        )
    events += picked_up(
        uid("R-AG-ONE"), "S-OK-4", honest_buyer, day + timedelta(days=2), "WRONG_ITEM", AGENT
    )
    for n in range(3):
        events += picked_up(
            uid("R-AG-RING"),
            f"S-OK-{5 + n}",
            ring_buyer,
            day + timedelta(days=n),
            "WRONG_ITEM",
            RING_AGENT,
        )
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_agent_orders") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            assessed = list((await session.scalars(select(Assessment))).all())

    def agent_pair_strength(buyer: str) -> float:
        """The strongest agent-buyer pair finding on the buyer's claims."""
        return max(
            (
                float(r["contribution"])
                for a in assessed
                for r in a.reasons
                if r["code"] == "COLLUSION_AGENT_BUYER"
                and (r.get("numbers") or {}).get("buyer_id") == buyer
            ),
            default=0.0,
        )

    assert agent_pair_strength(honest_buyer) < 0.5
    assert agent_pair_strength(ring_buyer) >= 0.5


SHARED_HOME = "e" * 64
SHARED_RING_HOME = "f" * 64


async def test_a_households_multi_item_orders_are_one_trial_each_of_its_address(
    harness: Harness,
) -> None:
    """Two accounts at one address, each with two returns kept and one multi-item order claimed
    as a whole (three items, two items), each with its own seller: counted by item the address
    claimed on 5 of 9 returns, a ring's record; by order 2 of 6, which is not. Two accounts at
    another address claiming on four separate orders are still found."""
    home, mate = uid("B-SHOME"), uid("B-SMATE")
    ring, ring_mate = uid("B-SRING"), uid("B-SRMATE")
    events: list[EventPayload] = []
    # The ordinary addresses the two are measured against: one buyer each, one in twenty
    # returns claimed.
    for i in range(300):
        claim = "WRONG_ITEM" if i % 20 == 3 else None
        events += at_home(
            journey(
                uid("R-OK"),
                f"S-OK-{i % 9}",
                uid("B-OK"),
                START + timedelta(hours=2 * i),
                claim,
                None,
            ),
            f"{i:064x}",
        )
    day = START + timedelta(days=26)
    for n, account in enumerate((home, home, mate, mate)):
        events += at_home(
            journey(uid("R-KEPT"), f"S-OK-{n}", account, day + timedelta(hours=n), None, None),
            SHARED_HOME,
        )
    for account, seller, items in ((home, "S-OK-5", 3), (mate, "S-OK-6", 2)):
        order = uid("O-HOME")
        for n in range(items):
            events += at_home(
                in_order(
                    journey(
                        uid("R-ITEM"),
                        seller,
                        account,
                        day + timedelta(days=1, minutes=n),
                        "WRONG_ITEM",
                        None,
                    ),
                    order,
                ),
                SHARED_HOME,
            )
    for n, account in enumerate((ring, ring_mate, ring, ring_mate)):
        events += at_home(
            journey(
                uid("R-SRING"),
                f"S-OK-{n}",
                account,
                day + timedelta(days=n),
                "WRONG_ITEM",
                None,
            ),
            SHARED_RING_HOME,
        )
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_identity_orders") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            assessed = list((await session.scalars(select(Assessment))).all())
            alerts = list((await session.scalars(select(Alert))).all())

    def identity_strength(address: str) -> float:
        """The strongest shared-identity finding on the address's accounts' claims."""
        return max(
            (
                float(r["contribution"])
                for a in assessed
                for r in a.reasons
                if r["code"] == "COLLUSION_SHARED_IDENTITY"
                and (r.get("numbers") or {}).get("hash_prefix") == address[:8]
            ),
            default=0.0,
        )

    assert identity_strength(SHARED_HOME) < 0.5
    assert not any(a.entity_id in (home, mate) for a in alerts)
    assert identity_strength(SHARED_RING_HOME) >= 0.5
    assert {ring, ring_mate} & {
        a.entity_id for a in alerts if a.pattern == "COLLUSION_SHARED_IDENTITY"
    }
