"""A case's transition and an appeal carry their claim's latest assessment, in fraud's own
scoring on real PostgreSQL: a decision stamped after the seller's later claims were counted
gets the claim's band, score and reasons (its latest revision), not a test run again over what
fraud's consumer had counted by then, and stores no entity risk and raises no alert."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, Assessment, EntityRisk, EntityRiskHistory
from services.fraud.scoring.service import assess_event
from shared.events import (
    AppealFiled,
    CaseDecided,
    CaseOrigin,
    CaseState,
    EventPayload,
    FraudAssessed,
    SellerEscalationFiled,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

DB = "test_fraud_case_events"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
SELLER = "S-CASE"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def score(
    sessions: async_sessionmaker[Any], events: list[EventPayload]
) -> list[FraudAssessed]:
    async with sessions() as session, session.begin():
        return [
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4()) for e in events
        ]


def returns_of(seller: str, day: float, claim: str | None, rid: str | None = None) -> list[Any]:
    return intact_journey(
        rid or uid("R"),
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


def decided(rid: str, at: datetime) -> CaseDecided:
    return CaseDecided(
        case_id=f"CASE-{rid}",
        case_version=2,
        return_id=rid,
        seller_id=SELLER,
        origin=CaseOrigin.SELLER,
        state=CaseState.DECIDED,
        previous_state=CaseState.OPEN,
        actor="system",
        reason="decided",
        occurred_at=at,
    )


async def latest_of(sessions: async_sessionmaker[Any], escalation_id: str) -> Assessment:
    async with sessions() as session:
        row = await session.scalar(
            select(Assessment)
            .where(
                Assessment.escalation_id == escalation_id,
                Assessment.subject_type == SellerEscalationFiled.ce_type,
            )
            .order_by(Assessment.revision.desc())
            .limit(1)
        )
    assert row is not None
    return row


async def stored_of_entities(sessions: async_sessionmaker[Any]) -> tuple[Any, ...]:
    """Every entity's stored risk, the risk history's size and the alerts, as they stand."""
    async with sessions() as session:
        risks = (
            await session.execute(
                select(
                    EntityRisk.entity_type,
                    EntityRisk.entity_id,
                    EntityRisk.score,
                    EntityRisk.band,
                    EntityRisk.as_of,
                ).order_by(EntityRisk.entity_type, EntityRisk.entity_id)
            )
        ).all()
        history = await session.scalar(select(func.count()).select_from(EntityRiskHistory))
        alerts = (
            await session.execute(
                select(Alert.alert_id, Alert.status, Alert.closed_at).order_by(Alert.alert_id)
            )
        ).all()
    return tuple(risks), history, tuple(alerts)


def carried(case_event: FraudAssessed, claim: Assessment) -> None:
    assert (case_event.band.value, case_event.score) == (claim.band, claim.score)
    assert [r.model_dump(mode="json") for r in case_event.reasons] == claim.reasons


async def test_a_decision_carries_its_claims_latest_assessment_not_a_test_at_its_own_time(
    sessions: async_sessionmaker[Any],
) -> None:
    # The category: twenty sellers, each claiming on one return in twenty (5 %).
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += returns_of(f"S-{s:02d}", i * 0.5, "DAMAGED" if i % 20 == 7 else None)
        await score(sessions, events)
    # The seller's first claim, on an ordinary record: one claim in twenty-one deliveries.
    events = []
    for i in range(20):
        events += returns_of(SELLER, i * 0.5, None)
    rid = uid("R-FIRST")
    first = (await score(sessions, events + returns_of(SELLER, 10.2, "DAMAGED", rid)))[-1]
    assert first.escalation_id == f"ESC-{rid}"
    # Then the seller's later claims are counted: twelve of its next sixteen deliveries. What a
    # claim-rate test reads of the seller now is another record than the first claim's.
    later: list[FraudAssessed] = []
    for i in range(16):
        later += await score(
            sessions, returns_of(SELLER, 11 + i * 0.25, "DAMAGED" if i % 4 else None)
        )
    assert any(
        r.code.startswith("SELLER_CLAIM_RATE") and "(13/37)" in r.detail
        for r in later[-1].reasons
        if r.numbers.get("entity") == f"seller:{SELLER}"
    ), "the later claims did not move the seller's claim-rate test"
    claim = await latest_of(sessions, f"ESC-{rid}")
    # The alert they raised revised the first claim: its latest revision is what stands.
    assert claim.revision > 0 and claim.band != first.band.value
    before = await stored_of_entities(sessions)

    # The decision is stamped when reconciliation decides, after all of it.
    decision = (await score(sessions, [decided(rid, START + timedelta(days=20))]))[0]

    assert decision.subject_type == CaseDecided.ce_type
    assert decision.escalation_id == f"ESC-{rid}"
    carried(decision, claim)
    assert await stored_of_entities(sessions) == before, (
        "the decision stored an entity risk or raised or cleared an alert"
    )
    # An appeal of the claim is no new input either: it carries the same.
    appeal = AppealFiled(
        escalation_id=f"ESC-{rid}",
        return_id=rid,
        seller_id=SELLER,
        reason="The item was broken in transit.",
        filed_at=START + timedelta(days=21),
    )
    carried((await score(sessions, [appeal]))[0], claim)
    assert await stored_of_entities(sessions) == before


async def test_a_transition_in_its_claims_batch_carries_the_assessment_not_yet_written(
    sessions: async_sessionmaker[Any],
) -> None:
    rid = uid("R")
    # The claim and its case's first transition in one consumer poll (one transaction): the
    # claim's assessment is still pending its write when the transition is scored.
    scored = await score(sessions, [*returns_of(SELLER, 0, "DAMAGED", rid), decided(rid, START)])
    claim, decision = scored[-2], scored[-1]
    assert claim.escalation_id == decision.escalation_id == f"ESC-{rid}"
    carried(decision, await latest_of(sessions, f"ESC-{rid}"))
    assert (decision.band, decision.score) == (claim.band, claim.score)
