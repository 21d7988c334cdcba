"""When fraud clears a rate alert (its entity proved ordinary), the events the alert made HIGH
are re-assessed down, on real PostgreSQL: an honest seller flagged on its first claims does
not leave those claims standing as probable fraud."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, Assessment
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, FraudAssessed, FraudBand
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey, planted_alert

DB = "test_fraud_clearing_revisions"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> FraudAssessed:
    last: FraudAssessed | None = None
    async with sessions() as session, session.begin():
        for e in events:
            last = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    assert last is not None
    return last


def returns_of(seller: str, day: float, claim: str | None) -> list[EventPayload]:
    return intact_journey(
        uid("R"),
        seller,
        uid("B"),
        START + timedelta(days=day),
        claim,
        "AG-1",
        hub="H-1",
        category="home",
        item_value=90_000,
        description="broken",
    )


async def latest(sessions: async_sessionmaker[Any], escalation_id: str) -> Assessment:
    async with sessions() as session:
        row = await session.scalar(
            select(Assessment)
            .where(Assessment.escalation_id == escalation_id)
            .order_by(Assessment.revision.desc())
            .limit(1)
        )
    assert row is not None
    return row


async def test_claims_an_alert_made_high_are_re_assessed_down_when_it_clears(
    sessions: async_sessionmaker[Any],
) -> None:
    # Twenty sellers of the category, each claiming on one return in twenty (5 %).
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += returns_of(f"S-{s:02d}", i * 0.5, "DAMAGED" if i % 20 == 7 else None)
        await score(sessions, events)
    alert_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        # Flagged (as on its first deliveries, all claimed) before its claims arrive.
        session.add(
            planted_alert(
                "CLAIM_ABUSE",
                "seller",
                "S-SMALL",
                raised_at=START,
                alert_id=alert_id,
                evidence={
                    "code": "SELLER_CLAIM_RATE_HIGH",
                    "detail": "3/3",
                    "numbers": {"p_value": 5e-5},
                },
            )
        )
    early = [await score(sessions, returns_of("S-SMALL", i * 0.1, "DAMAGED")) for i in range(3)]
    assert all(c.band is FraudBand.HIGH for c in early), "the alert's floor did not apply"
    # A hundred ordinary deliveries, then one more claim: 4 of 104 is its category's rate; the
    # alert is cleared on the deliveries, before that claim.
    events = []
    for i in range(100):
        events += returns_of("S-SMALL", 1 + i * 0.3, None)
    await score(sessions, events)
    await score(sessions, returns_of("S-SMALL", 40, "DAMAGED"))
    async with sessions() as session:
        alert = await session.get(Alert, alert_id)
    assert alert is not None and alert.status == "closed"
    for claim in early:
        assert claim.escalation_id is not None
        row = await latest(sessions, claim.escalation_id)
        assert row.revision == 1 and row.band != FraudBand.HIGH.value
        assert row.score < 0.8
        first = row.reasons[0]
        assert first["code"] == "ALERT_CLEARED"
        assert first["numbers"]["alert_id"] == str(alert_id)
        # Revised on the delivery that cleared it: a flagged seller is re-examined on its
        # deliveries too (days 1-31 here), not only at its next claim (day 40).
        revised_on = datetime.fromisoformat(first["numbers"]["revised_on_event_time"])
        assert START + timedelta(days=1) <= revised_on <= START + timedelta(days=31)
        # The cleared alert's finding no longer stands among the claim's reasons.
        assert all(r["numbers"].get("alert_id") != str(alert_id) for r in row.reasons[1:]), (
            row.reasons
        )


async def test_a_claim_high_on_evidence_of_its_own_stays_high_when_the_alert_clears(
    sessions: async_sessionmaker[Any],
) -> None:
    """Lowering only takes away what the cleared alert gave: a reason of another entity or
    pattern at HIGH keeps the claim HIGH."""
    from services.fraud.scoring.revisions import lowered_score
    from shared.events import ReasonCode

    alert = {"pattern": "CLAIM_ABUSE", "entity": "seller:S-1"}
    floor = ReasonCode(
        code="SELLER_CLAIM_RATE_SEQUENTIAL",
        detail="open alert",
        contribution=0.81,
        numbers=alert | {"alert_id": "a"},
    )
    weak = ReasonCode(
        code="CLAIM_MISSING_ITEM_WEIGHT_INTACT",
        detail="weight intact",
        contribution=0.35,
        numbers=alert,
    )
    reuse = ReasonCode(
        code="EVIDENCE_REUSED_EXACT",
        detail="same file",
        contribution=0.9,
        numbers={"pattern": "EVIDENCE_REUSE", "entity": "seller:S-1"},
    )
    assert lowered_score([floor, weak], "CLAIM_ABUSE", "seller", "S-1")[0] < 0.8
    assert lowered_score([floor, weak, reuse], "CLAIM_ABUSE", "seller", "S-1")[0] >= 0.8
    # The fact about the claim itself stays among its reasons; the alert's floor goes.
    assert [r.code for r in lowered_score([floor, weak], "CLAIM_ABUSE", "seller", "S-1")[1]] == [
        "CLAIM_MISSING_ITEM_WEIGHT_INTACT"
    ]


async def test_a_claim_another_open_alert_is_about_stays_high_when_one_clears(
    sessions: async_sessionmaker[Any],
) -> None:
    """Two alerts may be about one event (a pilfering agent's incident at a hub alerted too; a
    wrong-item buyer's claim on a flagged seller): clearing one leaves the event HIGH on the
    other, which is still open."""
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += returns_of(f"S-{s:02d}", i * 0.5, "DAMAGED" if i % 20 == 7 else None)
        await score(sessions, events)
    seller_alert = uuid.uuid4()

    async def open_alert(alert_id: uuid.UUID, pattern: str, etype: str, eid: str) -> None:
        async with sessions() as session, session.begin():
            session.add(
                planted_alert(
                    pattern, etype, eid, raised_at=START, alert_id=alert_id, action="review"
                )
            )

    await open_alert(seller_alert, "CLAIM_ABUSE", "seller", "S-SMALL")
    early = []
    for i in range(3):
        journey = intact_journey(
            uid("R"),
            "S-SMALL",
            "B-WRONG",
            START + timedelta(days=i * 0.1),
            "WRONG_ITEM",
            "AG-1",
            hub="H-1",
            category="home",
            item_value=90_000,
            description="not what was sent",
        )
        early.append(await score(sessions, journey))
    assert all(c.band is FraudBand.HIGH for c in early)
    # The buyer is alerted after the claims were HIGH already: its revisions skip them, so its
    # finding is not among their reasons.
    await open_alert(uuid.uuid4(), "WRONG_USED_RETURNS", "buyer", "B-WRONG")
    events = []
    for i in range(100):
        events += returns_of("S-SMALL", 1 + i * 0.3, None)
    await score(sessions, events)
    await score(sessions, returns_of("S-SMALL", 40, "DAMAGED"))
    async with sessions() as session:
        alert = await session.get(Alert, seller_alert)
    assert alert is not None and alert.status == "closed"
    for claim in early:
        assert claim.escalation_id is not None
        row = await latest(sessions, claim.escalation_id)
        assert row.band == FraudBand.HIGH.value, row.reasons
