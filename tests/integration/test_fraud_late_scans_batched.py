"""A claim and its return's late scan in one consumer batch, in either order, and the scan
redelivered (real PostgreSQL, fraud's own scoring as its consumer batches it, a database of
this test's own)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.features.repository import deferred_counters
from services.fraud.models import Assessment
from services.fraud.scoring.service import assess_event, prepare_batch
from shared.events import (
    EventPayload,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, qc_agent_alert

DB = "test_fraud_late_scans_batched"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
HUB, PICKER, QC_AGENT = "H-B", "AG-B-PICK", "AG-B-QC"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        async with sessions() as session, session.begin():
            session.add(qc_agent_alert(QC_AGENT, raised_at=START))
        yield sessions


def scan(rid: str, kind: ShipmentEventType, at: datetime, agent: str) -> ReturnShipmentEvent:
    return ReturnShipmentEvent(
        event_id=uuid.uuid4(),
        partner_id="swiftship",
        partner_event_id=uid("pe"),
        return_id=rid,
        awb=f"AWB-{rid}",
        event_type=kind,
        occurred_at=at,
        hub_id=HUB,
        agent_id=agent,
        weight_g=500,
        pod_otp_verified=True,
        raw_ref=uid("raw"),
    )


def story(rid: str) -> tuple[list[EventPayload], ReturnShipmentEvent, SellerEscalationFiled]:
    """A return picked up and delivered (its QC pass not sent yet), the late QC pass, the claim."""
    picked = START + timedelta(days=1)
    before: list[EventPayload] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id="S-B",
            buyer_id=uid("B"),
            category="home",
            item_value=90_000,
            qc_required=True,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=START,
        ),
        scan(rid, ShipmentEventType.PICKED_UP, picked, PICKER),
        scan(rid, ShipmentEventType.DELIVERED_TO_SELLER, picked + timedelta(days=2), PICKER),
    ]
    qc = scan(rid, ShipmentEventType.QC_PASSED, picked + timedelta(hours=1), QC_AGENT)
    claim = SellerEscalationFiled(
        escalation_id=f"ESC-{rid}",
        return_id=rid,
        seller_id="S-B",
        claim_type="WRONG_ITEM",
        claimed_amount=90_000,
        description="Not the item I sold.",
        evidence=[],
        channel="PORTAL",
        filed_at=picked + timedelta(days=2, hours=3),
        filed_by="seller-portal",
    )
    return before, qc, claim


async def batch(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    """One consumer batch: one transaction, read up front, counters written at its end."""
    async with sessions() as session, session.begin(), deferred_counters(session):
        await prepare_batch(session, events)
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


async def claim_bands(sessions: async_sessionmaker[Any], rid: str) -> list[tuple[int, str]]:
    async with sessions() as session:
        found = await session.execute(
            select(Assessment.revision, Assessment.band)
            .where(Assessment.escalation_id == f"ESC-{rid}")
            .where(Assessment.subject_type == SellerEscalationFiled.ce_type)
            .order_by(Assessment.revision)
        )
        return [(r, b) for r, b in found.all()]


async def test_a_claim_and_its_late_qc_pass_in_one_batch_end_high_in_either_order(
    sessions: async_sessionmaker[Any],
) -> None:
    claim_first, scan_first = uid("R"), uid("R")
    for rid, late_first in ((claim_first, False), (scan_first, True)):
        before, qc, claim = story(rid)
        await batch(sessions, before)
        await batch(sessions, [qc, claim] if late_first else [claim, qc])
    # The claim assessed before its QC pass is revised once, in the same transaction; the one
    # assessed after it is HIGH at arrival and has nothing to revise.
    first = await claim_bands(sessions, claim_first)
    assert [b for _, b in first][-1] == "HIGH" and len(first) == 2 and first[0][1] != "HIGH"
    assert await claim_bands(sessions, scan_first) == [(0, "HIGH")]

    # Redelivered (a new event id for the same scan, in a later batch): nothing the claim
    # reads changes, so nothing is revised again.
    _, qc, _ = story(claim_first)
    await batch(sessions, [qc])
    assert await claim_bands(sessions, claim_first) == first
