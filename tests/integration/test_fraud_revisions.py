"""Revisions: when an alert is raised on an entity, its recent events are re-assessed (real
PostgreSQL, fraud's own scoring, a database of this test's own so peers are known)."""

from __future__ import annotations

import functools
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
    SellerEscalationFiled,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

DB = "test_fraud_revisions"
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


# A return delivered intact, and the seller's claim an hour later.
journey = functools.partial(
    intact_journey,
    hub="H-REV",
    category="fashion",
    item_value=150_000,
    description="wrong item came back",
)


async def test_an_alert_raises_the_band_of_its_entitys_recent_claims(
    sessions: async_sessionmaker[Any],
) -> None:
    buyer = uid("B-WRONG")
    # An ordinary marketplace first: 120 deliveries to 12 sellers, one in ten claimed as the
    # wrong item, so a buyer's first few such claims are nothing unusual.
    events: list[EventPayload] = []
    for i in range(120):
        events += journey(
            uid("R-OK"),
            f"S-OK-{i % 12}",
            uid("B-OK"),
            START + timedelta(hours=3 * i),
            "WRONG_ITEM" if i % 10 == 0 else None,
            f"AG-{i % 6}",
        )
    # The buyer: one wrong-item claim long before (before the 120 days the detector counts),
    # one twelve days before the rest, then one a day by a new seller each time.
    days = [-130, 0, 12, 13, 14, 15, 16, 17, 18]
    claims = []
    for n, day in enumerate(days):
        rid = uid("R-BUY")
        claims.append(f"ESC-{rid}")
        events += journey(
            rid,
            f"S-NEW-{n}",
            buyer,
            START + timedelta(days=day, hours=20),
            "WRONG_ITEM",
            f"AG-{n % 6}",
        )
    events.sort(
        key=lambda e: (
            getattr(e, "filed_at", None) or getattr(e, "occurred_at", None) or e.initiated_at
        )
    )  # type: ignore[attr-defined]
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())

    async with sessions() as session:
        alert = await session.scalar(
            select(Alert).where(Alert.entity_id == buyer, Alert.pattern == "WRONG_USED_RETURNS")
        )
        assert alert is not None
        rows = (
            await session.scalars(
                select(Assessment)
                .where(Assessment.escalation_id.in_(claims))
                .order_by(Assessment.revision)
            )
        ).all()
        published = (
            await session.scalars(
                select(Outbox.payload).where(Outbox.ce_type == "disputedesk.fraud.assessed.v1")
            )
        ).all()
    by_claim: dict[str, list[Assessment]] = {}
    for r in rows:
        by_claim.setdefault(r.escalation_id or "", []).append(r)
    alert_day = alert.event_time
    assert alert_day is not None
    revised = [c for c in claims if len(by_claim[c]) > 1]
    assert revised, "no earlier claim was re-assessed"
    for c in revised:
        first, last = by_claim[c][0], by_claim[c][-1]
        assert first.band != "HIGH" and last.band == "HIGH"
        assert [r.revision for r in by_claim[c]] == list(range(len(by_claim[c])))
        # The alert's finding: the buyer's rate test or its sequential test, whichever read
        # the buyer's record more strongly when the alert was raised.
        assert last.reasons[0]["code"] == alert.evidence["code"]
        assert last.reasons[0]["code"] in (
            "BUYER_WRONG_USED_RATE_HIGH",
            "BUYER_WRONG_USED_SEQUENTIAL",
        )
        assert last.reasons[0]["numbers"]["alert_id"] == str(alert.alert_id)
        # Only events within the window the finding counted are revisited.
        assert alert_day - timedelta(days=120) <= first.event_time <= alert_day
        out = [
            p
            for p in published
            if p["subject_event_id"] == str(last.subject_event_id)
            and p["revision"] == last.revision
        ]
        assert len(out) == 1 and out[0]["revises"] == str(by_claim[c][-2].assessment_id)
    # The claim twelve days before the others is part of the finding: it is revised, though
    # its case is long decided. The first is older than the window: it stays as assessed.
    assert claims[1] in revised
    assert len(by_claim[claims[0]]) == 1
    # No claim of the buyer's is revised twice to the same band, and none goes down.
    for c in claims:
        bands = [r.band for r in by_claim[c]]
        assert bands == sorted(bands, key=["LOW", "MEDIUM", "HIGH"].index)


async def test_a_reuse_assessed_before_the_original_is_revised_when_the_original_arrives(
    sessions: async_sessionmaker[Any],
) -> None:
    """Claims travel on different partitions: the reusing claim may be assessed first. The
    original is not blamed for it, and the reuser's assessment is revised."""
    photo = uuid.uuid4().hex * 2
    original, reuser = uid("R-ORIG"), uid("R-COPY")
    seller = uid("S-COPY")

    def claim(rid: str, day: int) -> list[EventPayload]:
        events = journey(rid, seller, uid("B-ANY"), START + timedelta(days=day), None, "AG-0")
        return [
            *events,
            SellerEscalationFiled(
                escalation_id=f"ESC-{rid}",
                return_id=rid,
                seller_id=seller,
                claim_type="DAMAGED",
                claimed_amount=150_000,
                description="cracked screen",
                channel="EMAIL",
                filed_at=START + timedelta(days=day, hours=2),
                filed_by="test",
                evidence=[
                    {
                        "kind": "PHOTO",
                        "uri": f"https://evidence.example/{rid}.jpg",
                        "sha256": photo,
                        "captured_at": START.isoformat(),
                    }
                ],
            ),
        ]

    first, second = claim(original, 1), claim(reuser, 3)
    # The reusing claim's events are assessed before the original's.
    async with sessions() as session, session.begin():
        for e in [*second, *first]:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(Assessment)
                .where(Assessment.escalation_id.in_([f"ESC-{original}", f"ESC-{reuser}"]))
                .order_by(Assessment.revision)
            )
        ).all()
        alerts = (await session.scalars(select(Alert).where(Alert.entity_id == seller))).all()
    mine = [r for r in rows if r.escalation_id == f"ESC-{original}"]
    theirs = [r for r in rows if r.escalation_id == f"ESC-{reuser}"]
    assert len(mine) == 1 and mine[0].band != "HIGH"
    assert not any(r["code"].startswith("EVIDENCE_") for r in mine[0].reasons)
    assert [r.revision for r in theirs] == [0, 1] and theirs[0].band != "HIGH"
    assert theirs[1].band == "HIGH"
    assert theirs[1].reasons[0]["code"] == "EVIDENCE_REUSED_EXACT"
    assert theirs[1].reasons[0]["numbers"]["matched_return"] == original
    assert [a.pattern for a in alerts] == ["EVIDENCE_REUSE"]
