"""A seller's claim that reaches fraud before its return's delivery scan, in fraud's own scoring
on real PostgreSQL: the claim counts for the seller only once its delivery is known
(`features.service.count_claim_scans`), so the claim's first assessment reads the seller without
it, and the late delivery scan re-assesses the claim with it (`service.reassess_claim`). When that
claim is the seller's latest and no claim-abuse alert of the seller's was cleared since its time,
the re-assessment raises the seller's alert as the claim would have raised it with the delivery
in hand, instead of leaving it to the seller's next claim days later. A seller whose alert was
cleared after the claim is not alerted again by the late scan."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, SellerEscalationFiled, ShipmentEventType
from tests.conftest import Harness
from tests.support.fraud import intact_journey, new_fraud_db, planted_alert

PEERS = "test_fraud_late_delivery_peers"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
ABUSER = "S-LATE-ABUSER"
# 15 % of the abuser's deliveries claimed (three times its category), plain DAMAGED claims an
# hour after delivery: found by the sequential test as its claims accumulate.
RETURNS = 160


def claimed(i: int) -> bool:
    return i % 20 in (3, 9, 15)


def journey(seller: str, i: int, claim: bool, *, spacing: float = 0.25) -> list[EventPayload]:
    return intact_journey(
        f"R-{seller}-{i:03d}",
        seller,
        f"B-{seller}-{i:03d}",
        START + timedelta(days=i * spacing),
        "DAMAGED" if claim else None,
        "AG-1",
        hub="H-1",
        category="home",
        item_value=90_000,
        description="broken",
    )


def delivered_late(events: list[EventPayload]) -> list[list[EventPayload]]:
    """The journey as fraud receives it when the partner sends the delivery scan after the
    seller's claim (a batch hours late): the claim first, then the delivery, in two polls."""
    scans = [e for e in events if getattr(e, "event_type", None) is not None]
    delivery = [s for s in scans if s.event_type == ShipmentEventType.DELIVERED_TO_SELLER]  # type: ignore[attr-defined]
    rest = [e for e in events if e not in delivery]
    return [rest, delivery] if any(isinstance(e, SellerEscalationFiled) for e in rest) else [events]


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


async def seller_alerts(sessions: async_sessionmaker[Any]) -> list[Alert]:
    """The abuser's claim-abuse alerts not closed."""
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(Alert).where(
                        Alert.entity_id == ABUSER,
                        Alert.pattern == "CLAIM_ABUSE",
                        Alert.status != "closed",
                    )
                )
            ).all()
        )


@pytest.fixture
async def worlds(
    harness: Harness,
) -> AsyncIterator[Callable[[str], Any]]:
    """Fresh fraud databases that each hold the same category of ordinary sellers (twenty
    sellers, one delivery in twenty claimed), built once and copied."""
    stack: Any = harness.stack
    engine = create_async_engine(await new_fraud_db(harness, PEERS))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += journey(f"S-{s:02d}", i, i % 20 == 7, spacing=0.5)
        await score(sessions, events)
    await engine.dispose()
    made: list[str] = []

    @asynccontextmanager
    async def world(name: str) -> AsyncIterator[async_sessionmaker[Any]]:
        db = f"{PEERS}_{name}"
        stack.postgres.drop_database(db)
        stack.postgres.psql(f'CREATE DATABASE "{db}" TEMPLATE "{PEERS}"')
        made.append(db)
        engine = create_async_engine(stack.postgres.database_url(db))
        try:
            yield async_sessionmaker(engine, expire_on_commit=False)
        finally:
            await engine.dispose()

    yield world
    for db in made:
        stack.postgres.drop_database(db)


async def first_alerted(
    sessions: async_sessionmaker[Any],
    *,
    late: bool,
    upto: int = RETURNS,
    before_delivery: Callable[[int, datetime], Any] | None = None,
) -> int | None:
    """Score the abuser's returns one by one until its first claim-abuse alert; the index of
    the return whose events raised it (None: not within `upto`)."""
    for i in range(upto):
        events = journey(ABUSER, i, claimed(i))
        polls = delivered_late(events) if late else [events]
        for n, poll in enumerate(polls):
            if n == 1 and before_delivery is not None:
                claim = next(e for e in polls[0] if isinstance(e, SellerEscalationFiled))
                await before_delivery(i, claim.filed_at)
            await score(sessions, poll)
        if claimed(i) and await seller_alerts(sessions):
            return i
    return None


async def alerted_with_delivery_after_next_claim(
    sessions: async_sessionmaker[Any],
    *,
    held: int,
    upto: int,
    before_release: Callable[[datetime], Any] | None = None,
) -> tuple[int | None, list[Alert]]:
    """Score the abuser's returns one by one, the delivery scan of return `held` (a claimed
    one) reaching fraud only after the seller's next claimed return is scored whole
    (`before_release` called then with that claim's time); the index of the return whose
    events (or the held delivery after them) first alerted the seller, and the alerts."""
    pending: list[EventPayload] = []
    for i in range(upto):
        events = journey(ABUSER, i, claimed(i))
        if i == held:
            first, pending = delivered_late(events)
            await score(sessions, first)
        else:
            await score(sessions, events)
        if pending and i > held and claimed(i):
            if before_release is not None:
                claim = next(e for e in events if isinstance(e, SellerEscalationFiled))
                await before_release(claim.filed_at)
            await score(sessions, pending)
            pending = []
        if claimed(i) and (alerts := await seller_alerts(sessions)):
            return i, alerts
    return None, []


async def test_a_delivery_scan_after_the_sellers_next_claim_alerts_at_that_claim(
    worlds: Callable[[str], Any],
) -> None:
    async with worlds("in_order_next") as sessions:
        in_order = await first_alerted(sessions, late=False)
        alerts = await seller_alerts(sessions)
    assert in_order is not None, "the abuser was never alerted with its scans in order"
    # The claim before the one that alerts in order: its delivery scan reaches fraud after that
    # claim was counted, so that claim read the seller one claim and one delivery short.
    held = max(i for i in range(in_order) if claimed(i))
    async with worlds("late_next") as sessions:
        late, late_alerts = await alerted_with_delivery_after_next_claim(
            sessions, held=held, upto=in_order + 20
        )
    # The late scan reads the seller as of its latest claim, with the held claim counted: the
    # alert is raised there, as in order, not at the seller's claim after (days later).
    assert late == in_order, (late, in_order)
    assert len(late_alerts) == 1
    assert late_alerts[0].event_time == alerts[0].event_time
    assert late_alerts[0].evidence["code"] == alerts[0].evidence["code"]


async def test_a_late_delivery_scan_raises_the_alert_its_claim_completes(
    worlds: Callable[[str], Any],
) -> None:
    async with worlds("in_order") as sessions:
        in_order = await first_alerted(sessions, late=False)
        alerts = await seller_alerts(sessions)
    assert in_order is not None, "the abuser was never alerted with its scans in order"
    async with worlds("late") as sessions:
        # Every delivery scan of the abuser's claimed returns reaches fraud after the claim.
        late = await first_alerted(sessions, late=True, upto=in_order + 20)
        late_alerts = await seller_alerts(sessions)
    # Alerted on the same claim, not on the seller's next one (a few days later here).
    assert late == in_order, (late, in_order)
    assert len(late_alerts) == 1
    # Stamped at the claim's own time, as the claim would have raised it with its delivery.
    assert late_alerts[0].event_time == alerts[0].event_time
    assert late_alerts[0].evidence["code"] == alerts[0].evidence["code"]


async def test_a_seller_cleared_since_the_claim_is_not_alerted_again_by_its_late_scan(
    worlds: Callable[[str], Any],
) -> None:
    async with worlds("in_order") as sessions:
        in_order = await first_alerted(sessions, late=False)
    assert in_order is not None

    def cleared_since(
        sessions: async_sessionmaker[Any], shift: timedelta
    ) -> Callable[[int, datetime], Any]:
        async def clear(i: int, claimed_at: datetime) -> None:
            if i != in_order:
                return
            # The seller was alerted before, and fraud cleared the alert `shift` after the
            # claim's time (its deliveries since proved it ordinary).
            async with sessions() as session, session.begin():
                session.add(
                    planted_alert(
                        "CLAIM_ABUSE",
                        "seller",
                        ABUSER,
                        raised_at=START,
                        event_time=claimed_at - timedelta(days=3),
                        status="closed",
                        closed_at=START,
                        evidence={
                            "code": "SELLER_CLAIM_RATE_SEQUENTIAL",
                            "detail": "earlier flag",
                            "numbers": {},
                            "cleared": {
                                "event_time": (claimed_at + shift).isoformat(),
                                "numbers": {},
                                "detail": "the entity's record now looks ordinary",
                            },
                        },
                    )
                )

        return clear

    async with worlds("cleared_after") as sessions:
        hook = cleared_since(sessions, timedelta(hours=2))
        await first_alerted(sessions, late=True, upto=in_order + 1, before_delivery=hook)
        after = await seller_alerts(sessions)
    # The test run as of the claim's time does not see what cleared the seller since.
    assert after == []
    async with worlds("cleared_before") as sessions:
        hook = cleared_since(sessions, -timedelta(hours=2))
        alerted = await first_alerted(sessions, late=True, upto=in_order + 1, before_delivery=hook)
        before = await seller_alerts(sessions)
    # An alert cleared before the claim is no record after it: the claim's alert is raised.
    assert alerted == in_order and len(before) == 1


def closed_alert(at: datetime) -> Alert:
    """A claim-abuse alert on the abuser that fraud cleared at event time `at`."""
    return Alert(
        alert_id=uuid.uuid4(),
        pattern="CLAIM_ABUSE",
        entity_type="seller",
        entity_id=ABUSER,
        subject_key=f"seller:{ABUSER}",
        status="closed",
        severity="HIGH",
        summary=f"CLAIM_ABUSE on seller {ABUSER}",
        suggested_action="hold claims",
        evidence={
            "code": "SELLER_CLAIM_RATE_SEQUENTIAL",
            "detail": "earlier flag",
            "numbers": {},
            "cleared": {
                "event_time": at.isoformat(),
                "numbers": {},
                "detail": "the entity's record now looks ordinary",
            },
        },
        raised_at=START,
        event_time=at - timedelta(days=3),
        closed_at=START,
    )


async def test_a_seller_cleared_since_its_latest_claim_is_not_alerted_by_an_earlier_claims_scan(
    worlds: Callable[[str], Any],
) -> None:
    async with worlds("in_order_cleared") as sessions:
        in_order = await first_alerted(sessions, late=False)
    assert in_order is not None
    held = max(i for i in range(in_order) if claimed(i))

    async def seller_cleared(sessions: async_sessionmaker[Any], shift: timedelta) -> Any:
        async def clear(latest_claim_at: datetime) -> None:
            async with sessions() as session, session.begin():
                session.add(closed_alert(latest_claim_at + shift))

        return clear

    async with worlds("late_cleared_after") as sessions:
        late, _ = await alerted_with_delivery_after_next_claim(
            sessions,
            held=held,
            upto=in_order + 1,
            before_release=await seller_cleared(sessions, timedelta(hours=2)),
        )
    # Read as of the latest claim, the test does not see what cleared the seller after it.
    assert late is None
    async with worlds("late_cleared_before") as sessions:
        late, alerts = await alerted_with_delivery_after_next_claim(
            sessions,
            held=held,
            upto=in_order + 1,
            before_release=await seller_cleared(sessions, -timedelta(hours=2)),
        )
    # Cleared before the latest claim: that claim's reading stands and raises the alert.
    assert late == in_order and len(alerts) == 1
