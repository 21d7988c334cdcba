"""A buyer alerted for wrong/used returns on a small sample is re-examined as its ordinary
returns accumulate, through fraud's own scoring (`assess_event`, what the consumer calls per
event) on real PostgreSQL: once its later returns reach their sellers unclaimed, the alert is
cleared on a delivery (no claim prompts it), and a later claim on one of its returns is not HIGH
for that alert. A buyer who keeps returning wrong items stays alerted.

The buyers' peer baseline is every buyer the database holds, so the test scores on a database
of its own (`fresh_fraud_db`) and knows every peer: on a shared one, the rest of a run's buyers
set the baseline the household is judged against."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, Assessment, Outbox
from services.fraud.scoring.service import assess_event
from shared.events import (
    EventPayload,
    FraudAssessed,
    FraudBand,
    ReturnInitiated,
    SellerEscalationFiled,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey, planted_alert

DB = "test_fraud_wu_cleared"
PATTERN = "WRONG_USED_RETURNS"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
CATEGORY = "home"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def journey(buyer: str, day: float, claim: str | None) -> list[EventPayload]:
    """One return of `buyer`'s to a seller of its own, delivered intact, claimed or not."""
    return intact_journey(
        uid("R-WUC"),
        uid("S-WUC"),
        buyer,
        START + timedelta(days=day),
        claim,
        uid("AG-WUC"),
        hub=uid("H-WUC"),
        category=CATEGORY,
        item_value=90_000,
        description="not the item sold",
    )


def when(e: EventPayload) -> datetime:
    if isinstance(e, ReturnInitiated):
        return e.initiated_at
    at: datetime = getattr(e, "filed_at", None) or e.occurred_at  # type: ignore[union-attr]
    return at


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> FraudAssessed:
    """Score `events` in order, in one transaction (as one consumer batch); the last one's
    assessment."""
    last: FraudAssessed | None = None
    async with sessions() as session, session.begin():
        for e in events:
            last = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    assert last is not None
    return last


async def alert_of(sessions: async_sessionmaker[Any], buyer: str) -> Alert | None:
    async with sessions() as session:
        return (
            await session.scalars(
                select(Alert)
                .where(Alert.pattern == PATTERN, Alert.entity_id == buyer)
                .order_by(Alert.raised_at.desc())
                .limit(1)
            )
        ).first()


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


async def published(sessions: async_sessionmaker[Any], assessment_id: uuid.UUID) -> dict[str, Any]:
    """The assessment's document as fraud's outbox publishes it."""
    async with sessions() as session:
        payloads = (
            await session.scalars(
                select(Outbox.payload).where(Outbox.ce_type == FraudAssessed.ce_type)
            )
        ).all()
    found = [p for p in payloads if p.get("assessment_id") == str(assessment_id)]
    assert len(found) == 1, f"assessment {assessment_id} published {len(found)} times"
    return found[0]


def escalations(events: list[EventPayload]) -> list[str]:
    return [e.escalation_id for e in events if hasattr(e, "escalation_id")]  # type: ignore[attr-defined]


async def score_peers(sessions: async_sessionmaker[Any]) -> None:
    """Buyers at large: sixty, ten returns each, one in twenty-five claimed as a wrong item
    (4 %)."""
    for b in range(6):
        peers: list[EventPayload] = []
        for p in range(b * 10, b * 10 + 10):
            for i in range(10):
                claimed = (p * 10 + i) % 25 == 3
                peers += journey(f"B-PEER-{p:02d}", i * 0.5, "WRONG_ITEM" if claimed else None)
        await score(sessions, sorted(peers, key=when))


async def test_a_buyer_alerted_on_a_few_returns_is_cleared_as_its_ordinary_returns_accumulate(
    sessions: async_sessionmaker[Any],
) -> None:
    household, planted = "B-HOUSE", "B-WRONG"
    # With the two below, every buyer the detector compares with.
    await score_peers(sessions)

    # The household's first six returns, four claimed as wrong items by four sellers; the
    # planted buyer's six, five claimed. Both alerted on the small sample.
    early: dict[str, list[str]] = {household: [], planted: []}
    for buyer, claimed in ((household, 4), (planted, 5)):
        for i in range(6):
            events = journey(buyer, 10 + i * 0.5, "WRONG_ITEM" if i < claimed else None)
            early[buyer] += escalations(events)
            await score(sessions, events)
    alerts: dict[str, uuid.UUID] = {}
    for buyer in (household, planted):
        raised = await alert_of(sessions, buyer)
        assert raised is not None and raised.status == "open", f"{buyer} was not alerted"
        alerts[buyer] = raised.alert_id
    # The alert lifted the household's claims to HIGH (its floor on the last, a raised revision
    # of the earlier ones).
    for escalation in early[household]:
        assert (await latest(sessions, escalation)).band == FraudBand.HIGH.value, escalation

    # The planted buyer goes on: eight more returns, seven claimed as used items. The
    # household's next fifty returns reach their sellers unclaimed. In the order they happen,
    # a few days' events per transaction.
    later: list[EventPayload] = []
    for i in range(8):
        later += journey(planted, 14 + i * 0.5, "USED_ITEM" if i else None)
    for i in range(50):
        later += journey(household, 14 + i * 0.4, None)
    later.sort(key=when)
    for start in range(0, len(later), 20):
        await score(sessions, later[start : start + 20])

    cleared = await alert_of(sessions, household)
    assert cleared is not None and cleared.status == "closed", "the household stayed alerted"
    assert "cleared" in cleared.evidence
    assert cleared.evidence["cleared"]["numbers"]["log_bayes_factor"] <= -2.302
    still = await alert_of(sessions, planted)
    assert still is not None and still.status == "open", "the planted buyer's alert was cleared"

    # The claims the household's alert made HIGH are revised down on the delivery that cleared
    # it, and published so.
    for escalation in early[household]:
        row = await latest(sessions, escalation)
        assert row.revision >= 1 and row.band != FraudBand.HIGH.value, (escalation, row.reasons)
        first = row.reasons[0]
        assert first["code"] == "ALERT_CLEARED"
        assert first["numbers"]["alert_id"] == str(alerts[household])
        assert first["numbers"]["entity"] == f"buyer:{household}"
        revised_on = datetime.fromisoformat(first["numbers"]["revised_on_event_time"])
        assert START + timedelta(days=14) <= revised_on <= START + timedelta(days=34)
        assert all(r["numbers"].get("alert_id") != str(alerts[household]) for r in row.reasons[1:])
        document = await published(sessions, row.assessment_id)
        assert document["revision"] == row.revision and document["band"] == row.band
    # The planted buyer's claims stay HIGH on its open alert.
    for escalation in early[planted][-3:]:
        assert (await latest(sessions, escalation)).band == FraudBand.HIGH.value, escalation

    # A later wrong-item claim on the household's return: its fifth named claim in 57 returns is
    # no alert's matter, and nothing lifts the claim to HIGH for the buyer.
    after = await score(sessions, journey(household, 40, "WRONG_ITEM"))
    assert after.band is not FraudBand.HIGH
    assert not any(
        r.numbers.get("alert_id")
        or (r.numbers.get("entity") == f"buyer:{household}" and r.contribution >= 0.8)
        for r in after.reasons
    ), [r.code for r in after.reasons]
    reopened = await alert_of(sessions, household)
    assert reopened is not None and reopened.status == "closed"
    # The planted buyer's next claim is HIGH on its open alert.
    planted_claim = await score(sessions, journey(planted, 40, "WRONG_ITEM"))
    assert planted_claim.band is FraudBand.HIGH


async def test_a_claim_another_open_alert_is_about_stays_high_when_the_buyer_clears(
    sessions: async_sessionmaker[Any],
) -> None:
    """A claim HIGH on the buyer's alert whose seller is alerted for claim abuse afterwards
    (that alert's revisions skip a claim HIGH already) stays HIGH when the buyer is cleared:
    the seller's open alert is about it. The buyer's other claims are lowered."""
    household = "B-HOUSE"
    await score_peers(sessions)
    claims: list[SellerEscalationFiled] = []
    for i in range(6):
        events = journey(household, 10 + i * 0.5, "WRONG_ITEM" if i < 4 else None)
        claims += [e for e in events if isinstance(e, SellerEscalationFiled)]
        await score(sessions, events)
    raised = await alert_of(sessions, household)
    assert raised is not None and raised.status == "open", "the household was not alerted"
    for c in claims:
        assert (await latest(sessions, c.escalation_id)).band == FraudBand.HIGH.value
    # The seller of the household's first claim is alerted for claim abuse now.
    abuser = claims[0].seller_id
    async with sessions() as session, session.begin():
        session.add(
            planted_alert(
                "CLAIM_ABUSE",
                "seller",
                abuser,
                raised_at=START + timedelta(days=13),
                evidence={"code": "SELLER_CLAIM_RATE_HIGH", "detail": "", "numbers": {}},
            )
        )

    later: list[EventPayload] = []
    for i in range(50):
        later += journey(household, 14 + i * 0.4, None)
    for start in range(0, len(later), 20):
        await score(sessions, later[start : start + 20])

    cleared = await alert_of(sessions, household)
    assert cleared is not None and cleared.status == "closed", "the household stayed alerted"
    kept = await latest(sessions, claims[0].escalation_id)
    assert kept.band == FraudBand.HIGH.value
    assert all(r["code"] != "ALERT_CLEARED" for r in kept.reasons), kept.reasons
    for c in claims[1:]:
        row = await latest(sessions, c.escalation_id)
        assert row.band != FraudBand.HIGH.value and row.reasons[0]["code"] == "ALERT_CLEARED"
