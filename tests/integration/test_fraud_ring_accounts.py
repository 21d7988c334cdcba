"""A seller-buyer ring spread over the accounts of one household: the seller's alerted pair names
one account, and the other accounts at its address that the seller claimed against are the
ring's too (real PostgreSQL, fraud's own scoring, a database per run)."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.fraud.models import Alert, Assessment
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, ReturnInitiated, ReturnShipmentEvent, ShipmentEventType
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

START = datetime(2026, 4, 6, 9, tzinfo=UTC)
RING_SELLER = "S-RING"
RING_HOME = "a" * 64
HONEST_HOME = "b" * 64

journey = functools.partial(
    intact_journey,
    hub="H-RING",
    category="home",
    item_value=250_000,
    description="item missing from the parcel",
)


def at_home(events: list[EventPayload], home: str) -> list[EventPayload]:
    """The journey's return initiated by a buyer seen at `home` (an address hash)."""
    return [
        e.model_copy(update={"buyer_address_hash": home}) if isinstance(e, ReturnInitiated) else e
        for e in events
    ]


def when(e: EventPayload) -> datetime:
    at = getattr(e, "filed_at", None) or getattr(e, "occurred_at", None)
    return at or e.initiated_at  # type: ignore[attr-defined, no-any-return]


async def test_the_accounts_a_ring_seller_claims_against_at_its_buyers_address_are_alerted(
    harness: Harness,
) -> None:
    ring_buyer, mate, late_mate, spared = (uid(x) for x in ("B-R1", "B-R2", "B-R3", "B-R4"))
    household = (uid("B-H1"), uid("B-H2"))
    events: list[EventPayload] = []
    # An ordinary marketplace: 300 deliveries to ten sellers and the ring seller, one in twenty
    # claimed, each by its own buyer.
    for i in range(300):
        seller = RING_SELLER if i % 10 == 0 else f"S-OK-{i % 9}"
        claim = "MISSING_ITEM" if i % 20 == 3 else None
        events += journey(
            uid("R-OK"), seller, uid("B-OK"), START + timedelta(hours=2 * i), claim, f"AG-{i % 6}"
        )
    # The ring: the seller claims twice against one account at the ring's address early on,
    # then on every return of another account there until its pair is alerted; a third
    # account there claims after the alert; a fourth returns to it unclaimed.
    ring_at = START + timedelta(days=26)
    for n in range(2):
        events += at_home(
            journey(
                uid("R-MATE"), RING_SELLER, mate, ring_at + timedelta(hours=n), "DAMAGED", "AG-1"
            ),
            RING_HOME,
        )
    for n in range(7):
        events += at_home(
            journey(
                uid("R-RING"),
                RING_SELLER,
                ring_buyer,
                ring_at + timedelta(days=1 + n),
                "MISSING_ITEM",
                "AG-2",
            ),
            RING_HOME,
        )
    late = uid("R-LATE")
    events += at_home(
        journey(late, RING_SELLER, late_mate, ring_at + timedelta(days=9), "WRONG_ITEM", "AG-3"),
        RING_HOME,
    )
    events += at_home(
        journey(uid("R-SPARED"), RING_SELLER, spared, ring_at + timedelta(days=9), None, "AG-3"),
        RING_HOME,
    )
    # An honest household: two accounts at one address, each claimed on once by an ordinary
    # seller.
    for n, account in enumerate(household):
        events += at_home(
            journey(
                uid("R-HOME"), "S-OK-4", account, ring_at + timedelta(days=n), "DAMAGED", "AG-4"
            ),
            HONEST_HOME,
        )
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_ring_accounts") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            alerts = list((await session.scalars(select(Alert))).all())
            late_band = await session.scalar(
                select(Assessment.band)
                .where(Assessment.escalation_id == f"ESC-{late}")
                .order_by(Assessment.revision.desc())
                .limit(1)
            )

    def alerted(entity_id: str, pattern: str) -> bool:
        return any(a.entity_id == entity_id and a.pattern == pattern for a in alerts)

    # The pair alert names the seller and the account it claimed on most.
    assert any(
        a.entity_id == RING_SELLER
        and a.pattern == "COLLUSION_SELLER_BUYER"
        and (a.evidence.get("numbers") or {}).get("buyer_id") == ring_buyer
        for a in alerts
    )
    # The account claimed against before the alert, when the alert is raised; the one claimed
    # against after it, on its claim.
    assert alerted(mate, "COLLUSION_SHARED_IDENTITY")
    assert alerted(late_mate, "COLLUSION_SHARED_IDENTITY")
    assert late_band == "HIGH"
    # Never claimed against by the ring seller: nothing found.
    assert not any(a.entity_id == spared for a in alerts)
    # A household that shares an address with no ring: nothing.
    assert not any(a.entity_id in household for a in alerts)


async def test_a_ring_spread_over_a_households_accounts_is_found_as_one_buyer(
    harness: Harness,
) -> None:
    """Four accounts at one address, the seller claiming on each of their two returns: no
    account's pair stands out on two claims, the household's eight do, and every account the
    seller claimed against is alerted. Two honest accounts at another address, claimed on
    once each by the same kind of seller, are not."""
    ring = [uid(f"B-SPREAD{n}") for n in range(4)]
    household = (uid("B-H1"), uid("B-H2"))
    events: list[EventPayload] = []
    for i in range(300):
        seller = RING_SELLER if i % 10 == 0 else f"S-OK-{i % 9}"
        claim = "MISSING_ITEM" if i % 20 == 3 else None
        events += journey(
            uid("R-OK"), seller, uid("B-OK"), START + timedelta(hours=2 * i), claim, f"AG-{i % 6}"
        )
    ring_at = START + timedelta(days=26)
    for n in range(8):
        events += at_home(
            journey(
                uid("R-SPREAD"),
                RING_SELLER,
                ring[n % 4],
                ring_at + timedelta(days=n),
                "MISSING_ITEM",
                f"AG-{n % 3}",
            ),
            RING_HOME,
        )
    for n, account in enumerate(household):
        events += at_home(
            journey(
                uid("R-HOME"), "S-OK-4", account, ring_at + timedelta(days=n), "DAMAGED", "AG-4"
            ),
            HONEST_HOME,
        )
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_ring_household") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            alerts = list((await session.scalars(select(Alert))).all())

    pair = [
        a for a in alerts if a.entity_id == RING_SELLER and a.pattern == "COLLUSION_SELLER_BUYER"
    ]
    # Alerted on the household's claims (one alert per account the seller's claims name).
    assert pair
    assert all((a.evidence.get("numbers") or {}).get("household_accounts", 0) >= 2 for a in pair)
    for account in ring:
        assert any(a.entity_id == account for a in alerts), account
    assert not any(a.entity_id in household for a in alerts)


async def test_a_rings_claim_on_a_parcel_harmed_in_transit_is_not_high_on_the_ring(
    harness: Harness,
) -> None:
    """The ring of the first test, alerted; then the seller claims against its ring account
    once more on a parcel the partner delivered light (a weight drop in transit), and once more
    on an intact one. The intact claim is HIGH on the ring; the light one has the partner's scans
    for its explanation, as the seller's and the buyer's own records do, and stays below HIGH
    (on the world written from the specification, seeds 4242 and 5151, such claims were the
    honest escalations scored HIGH). The ring is alerted all the same."""
    ring_buyer = uid("B-R1")
    events: list[EventPayload] = []
    for i in range(300):
        seller = RING_SELLER if i % 10 == 0 else f"S-OK-{i % 9}"
        claim = "MISSING_ITEM" if i % 20 == 3 else None
        events += journey(
            uid("R-OK"), seller, uid("B-OK"), START + timedelta(hours=2 * i), claim, f"AG-{i % 6}"
        )
    ring_at = START + timedelta(days=26)
    for n in range(7):
        events += at_home(
            journey(
                uid("R-RING"),
                RING_SELLER,
                ring_buyer,
                ring_at + timedelta(days=n),
                "MISSING_ITEM",
                "AG-2",
            ),
            RING_HOME,
        )
    light, whole = uid("R-LIGHT"), uid("R-WHOLE")
    for rid, day in ((light, 9), (whole, 10)):
        trip = at_home(
            journey(
                rid, RING_SELLER, ring_buyer, ring_at + timedelta(days=day), "MISSING_ITEM", "AG-3"
            ),
            RING_HOME,
        )
        if rid == light:
            # Weighed 800 g at pickup, 420 g at delivery: lightened in the partner's hands.
            trip = [
                e.model_copy(update={"weight_g": 420})
                if isinstance(e, ReturnShipmentEvent)
                and e.event_type == ShipmentEventType.DELIVERED_TO_SELLER
                else e
                for e in trip
            ]
        events += trip
    events.sort(key=when)
    async with fresh_fraud_db(harness, "test_fraud_ring_harmed") as sessions:
        async with sessions() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with sessions() as session:
            alerts = list((await session.scalars(select(Alert))).all())

            async def band(rid: str) -> str | None:
                return await session.scalar(
                    select(Assessment.band)
                    .where(Assessment.escalation_id == f"ESC-{rid}")
                    .order_by(Assessment.revision.desc())
                    .limit(1)
                )

            light_band, whole_band = await band(light), await band(whole)

    assert any(a.entity_id == RING_SELLER and a.pattern == "COLLUSION_SELLER_BUYER" for a in alerts)
    assert whole_band == "HIGH"
    assert light_band in ("LOW", "MEDIUM")
