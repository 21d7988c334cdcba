"""A seller's claim on a return that came to harm at a hub alerted for pilferage carries the
hub's finding, in fraud's own scoring run as the consumer runs its batches (real PostgreSQL, a
database of this test's own): the claims before the alert are revised when it is raised, the
claims after it are HIGH when they arrive, a claim on a parcel the hub delivered intact is left
as it was, and when the hub is cleared the claims it lifted go back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.features.repository import deferred_counters
from services.fraud.models import Alert, Assessment
from services.fraud.scoring.service import assess_event, prepare_batch
from shared.events import (
    EventPayload,
    EvidenceAdded,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_pilferage_claims"
START = datetime(2026, 2, 2, 9, tzinfo=UTC)
PILFERER = "H-0"
# Six hubs of two agents, a parcel a day each; H-0 pilfers for its first PILFER_DAYS days,
# then handles honestly until the end of the world.
HUBS, AGENTS = 6, 2
PILFER_DAYS, DAYS = 40, 110


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def journey(
    hub: str,
    agent: str,
    delivered: datetime,
    light: bool,
    claim: str | None,
    filed: datetime | None = None,
) -> tuple[str, list[EventPayload]]:
    """A return picked up by `agent` at `hub` at 1000 g and delivered intact or at 400 g, and
    its own seller's claim if `claim`, filed an hour later unless `filed` says when."""
    rid = uid("R")
    seller = uid("S")
    out: list[EventPayload] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id=seller,
            buyer_id=uid("B"),
            category="home",
            item_value=90_000,
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=delivered - timedelta(days=3),
        )
    ]
    for kind, at, weight in (
        (ShipmentEventType.PICKED_UP, delivered - timedelta(days=2), 1000),
        (ShipmentEventType.DELIVERED_TO_SELLER, delivered, 400 if light else 1000),
    ):
        out.append(
            ReturnShipmentEvent(
                event_id=uuid.uuid4(),
                partner_id="swiftship",
                partner_event_id=uid("pe"),
                return_id=rid,
                awb=f"AWB-{rid}",
                event_type=kind,
                occurred_at=at,
                hub_id=hub,
                agent_id=agent,
                weight_g=weight,
                pod_otp_verified=True,
                raw_ref=uid("raw"),
            )
        )
    if claim:
        out.append(
            SellerEscalationFiled(
                escalation_id=f"ESC-{rid}",
                return_id=rid,
                seller_id=seller,
                claim_type=claim,
                claimed_amount=90_000,
                description="the parcel came back light and the item is missing",
                channel="EMAIL",
                filed_at=filed or delivered + timedelta(hours=1),
                filed_by="test",
                evidence=[],
            )
        )
        # The seller's received weight a few hours on: the claim's other scored event.
        out.append(
            EvidenceAdded(
                escalation_id=f"ESC-{rid}",
                return_id=rid,
                seller_id=seller,
                evidence=[],
                received_weight_g=400 if light else 1000,
                added_at=(filed or delivered) + timedelta(hours=3),
            )
        )
    return rid, out


async def batch(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    """One consumer batch: one transaction, read up front, counters written at its end."""
    async with sessions() as session, session.begin(), deferred_counters(session):
        await prepare_batch(session, events)
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


async def evidence_assessment(sessions: async_sessionmaker[Any], rid: str) -> Assessment:
    async with sessions() as session:
        row = await session.scalar(
            select(Assessment).where(
                Assessment.escalation_id == f"ESC-{rid}",
                Assessment.subject_type == EvidenceAdded.ce_type,
            )
        )
    assert row is not None
    return row


async def revisions_of(sessions: async_sessionmaker[Any], rid: str) -> list[Assessment]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Assessment)
                .where(Assessment.escalation_id == f"ESC-{rid}")
                .where(Assessment.subject_type == SellerEscalationFiled.ce_type)
                .order_by(Assessment.revision)
            )
        )


def codes(row: Assessment) -> set[str]:
    return {r["code"] for r in row.reasons}


async def test_claims_on_returns_pilfered_at_an_alerted_hub_carry_its_finding(
    sessions: async_sessionmaker[Any],
) -> None:
    # Honest agents lose one parcel in forty (2.5 %); H-0's two agents one in five while it
    # pilfers. Every light parcel is claimed as a missing item by its seller (a seller of its
    # own, so nothing of the seller's record speaks), and one parcel in ten delivered intact is
    # claimed as damaged.
    light_claims: list[tuple[datetime, str]] = []
    intact_claims: list[tuple[datetime, str]] = []
    honest_hub_claims: list[str] = []
    for day in range(DAYS):
        events: list[EventPayload] = []
        for h in range(HUBS):
            for a in range(AGENTS):
                at = START + timedelta(days=day, minutes=7 * (h * AGENTS + a))
                pilfering = h == 0 and day < PILFER_DAYS
                light = (day + 3 * a) % 5 == 0 if pilfering else (day + 11 * h + 5 * a) % 40 == 0
                claim = "MISSING_ITEM" if light else ("DAMAGED" if (day + a) % 10 == 3 else None)
                # Intake stamps a claim with its own clock, and a claim goes ahead of a
                # backlog of scans: H-0's first two pilfered parcels' claims are stamped
                # after the world's end, yet scored with their deliveries, before the alert.
                ahead = pilfering and light and len(light_claims) < 2
                filed = START + timedelta(days=DAYS + 5) if ahead else None
                rid, journey_events = journey(f"H-{h}", f"AG-{h}-{a}", at, light, claim, filed)
                events += journey_events
                if h == 0 and light and day < PILFER_DAYS:
                    light_claims.append((at, rid))
                elif h == 0 and claim and day < PILFER_DAYS:
                    intact_claims.append((at, rid))
                elif h != 0 and light:
                    honest_hub_claims.append(rid)
        await batch(sessions, events)

    async with sessions() as session:
        alerts = list(
            await session.scalars(
                select(Alert).where(Alert.pattern.like("PILFERAGE_%")).order_by(Alert.raised_at)
            )
        )
    assert [(x.pattern, x.entity_id) for x in alerts] == [("PILFERAGE_HUB", PILFERER)], [
        (x.pattern, x.entity_id, x.status) for x in alerts
    ]
    alert = alerts[0]
    alert_id = str(alert.alert_id)
    assert alert.event_time is not None and alert.event_time < START + timedelta(days=PILFER_DAYS)
    # Cleared once its honest days fill the window.
    assert alert.status == "closed", alert.status

    before = [rid for at, rid in light_claims if at + timedelta(hours=1) < alert.event_time]
    after = [rid for at, rid in light_claims if at + timedelta(hours=1) > alert.event_time]
    assert len(before) >= 3 and len(after) >= 3, (len(before), len(after))
    for rid in before:
        rows = await revisions_of(sessions, rid)
        # Filed before the alert: not HIGH on arrival; revised to HIGH when it was raised,
        # naming the hub and the alert, then lowered when it was cleared.
        assert rows[0].band != "HIGH"
        lifted = [r for r in rows if r.band == "HIGH"]
        assert lifted, [(r.revision, r.band, codes(r)) for r in rows]
        top = lifted[0].reasons[0]
        assert top["code"] == "PILFERAGE_AT_HUB"
        assert top["numbers"]["entity"] == f"hub:{PILFERER}"
        assert top["numbers"]["alert_id"] == alert_id
        assert rows[-1].band != "HIGH" and rows[-1].reasons[0]["code"] == "ALERT_CLEARED"
    for rid in after:
        rows = await revisions_of(sessions, rid)
        # Filed while the alert was open: HIGH on arrival, on the hub's finding.
        assert rows[0].band == "HIGH", [(r.revision, r.band, codes(r)) for r in rows]
        assert "PILFERAGE_AT_HUB" in codes(rows[0])
        assert rows[-1].band != "HIGH" and rows[-1].reasons[0]["code"] == "ALERT_CLEARED"
        assert "PILFERAGE_AT_HUB" not in codes(rows[-1])
        # So is the seller's added evidence, the case's latest assessment.
        added = await evidence_assessment(sessions, rid)
        assert added.band == "HIGH" and "PILFERAGE_AT_HUB" in codes(added), codes(added)
    # A claim on a parcel H-0 delivered intact is no part of its evidence: never revised.
    assert intact_claims
    for _, rid in intact_claims:
        rows = await revisions_of(sessions, rid)
        assert len(rows) == 1 and rows[0].band != "HIGH", [(r.band, codes(r)) for r in rows]
        assert not any("PILFERAGE" in c for c in codes(rows[0]))
    # Nor is a claim on an honest hub's light parcel.
    assert honest_hub_claims
    for rid in honest_hub_claims:
        rows = await revisions_of(sessions, rid)
        assert len(rows) == 1 and rows[0].band != "HIGH"
