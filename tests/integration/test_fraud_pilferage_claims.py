"""A seller's claim on a return that came to harm in the pickup of an agent alerted for
pilferage carries the agent's finding, in fraud's own scoring run as the consumer runs its
batches (real PostgreSQL, a database of this test's own): the claims before the alert are
revised when it is raised, the claims after it are HIGH when they arrive, a claim on a parcel
the agent picked up and that came back intact is left as it was. A hub's pilferage alert lifts
no claim: its incidents carry it, its sellers' claims are left to their own facts."""

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
# Six hubs of two agents, a parcel a day each; the pilferer (a hub: both its agents' parcels;
# or one agent) pilfers for its first PILFER_DAYS days, then handles honestly until the end.
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


class World:
    """The claims of a world, by what happened to their parcels."""

    def __init__(self) -> None:
        self.pilfered: list[tuple[datetime, str]] = []  # light, in the pilferer's custody
        self.intact: list[str] = []  # delivered intact by the pilferer, claimed as damaged
        self.honest: list[str] = []  # light, nowhere near the pilferer


async def play(sessions: async_sessionmaker[Any], pilfers: tuple[str, str]) -> World:
    """Honest custody loses one parcel in forty (2.5 %); the pilferer's one in five while it
    pilfers. Every light parcel is claimed as a missing item by its seller (a seller of its own,
    so nothing of the seller's record speaks), and one parcel in ten delivered intact is claimed
    as damaged."""
    etype, eid = pilfers
    world = World()
    for day in range(DAYS):
        events: list[EventPayload] = []
        for h in range(HUBS):
            for a in range(AGENTS):
                hub, agent = f"H-{h}", f"AG-{h}-{a}"
                at = START + timedelta(days=day, minutes=7 * (h * AGENTS + a))
                held = (hub if etype == "hub" else agent) == eid
                pilfering = held and day < PILFER_DAYS
                light = (day + 3 * a) % 5 == 0 if pilfering else (day + 11 * h + 5 * a) % 40 == 0
                claim = "MISSING_ITEM" if light else ("DAMAGED" if (day + a) % 10 == 3 else None)
                # Intake stamps a claim with its own clock, and a claim goes ahead of a
                # backlog of scans: the pilferer's first two pilfered parcels' claims are
                # stamped after the world's end, yet scored with their deliveries, before the
                # alert.
                ahead = pilfering and light and len(world.pilfered) < 2
                filed = START + timedelta(days=DAYS + 5) if ahead else None
                rid, journey_events = journey(hub, agent, at, light, claim, filed)
                events += journey_events
                if pilfering and light:
                    world.pilfered.append((at, rid))
                elif pilfering and claim:
                    world.intact.append(rid)
                elif h != 0 and light:
                    world.honest.append(rid)
        await batch(sessions, events)
    return world


async def pilferage_alerts(sessions: async_sessionmaker[Any]) -> list[Alert]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Alert).where(Alert.pattern.like("PILFERAGE_%")).order_by(Alert.raised_at)
            )
        )


async def test_claims_on_returns_pilfered_by_an_alerted_agent_carry_its_finding(
    sessions: async_sessionmaker[Any],
) -> None:
    pilferer = "AG-0-0"
    world = await play(sessions, ("agent", pilferer))

    alerts = [x for x in await pilferage_alerts(sessions) if x.entity_type == "agent"]
    assert [x.entity_id for x in alerts] == [pilferer], [
        (x.pattern, x.entity_id, x.status) for x in alerts
    ]
    alert = alerts[0]
    alert_id = str(alert.alert_id)
    assert alert.event_time is not None and alert.event_time < START + timedelta(days=PILFER_DAYS)
    cleared = alert.status == "closed"

    before = [rid for at, rid in world.pilfered if at + timedelta(hours=1) < alert.event_time]
    after = [rid for at, rid in world.pilfered if at + timedelta(hours=1) > alert.event_time]
    assert len(before) >= 2 and len(after) >= 2, (len(before), len(after))
    for rid in before:
        rows = await revisions_of(sessions, rid)
        # Filed before the alert: not HIGH on arrival; revised to HIGH when it was raised,
        # naming the agent and the alert (then lowered if it was cleared).
        assert rows[0].band != "HIGH"
        lifted = [r for r in rows if r.band == "HIGH"]
        assert lifted, [(r.revision, r.band, codes(r)) for r in rows]
        top = lifted[0].reasons[0]
        assert top["code"] == "PILFERAGE_AT_AGENT"
        assert top["numbers"]["entity"] == f"agent:{pilferer}"
        assert top["numbers"]["alert_id"] == alert_id
        if cleared:
            assert rows[-1].band != "HIGH" and rows[-1].reasons[0]["code"] == "ALERT_CLEARED"
    for rid in after:
        rows = await revisions_of(sessions, rid)
        # Filed while the alert was open: HIGH on arrival, on the agent's finding.
        assert rows[0].band == "HIGH", [(r.revision, r.band, codes(r)) for r in rows]
        assert "PILFERAGE_AT_AGENT" in codes(rows[0])
        if not cleared:
            # So is the seller's added evidence, the case's latest assessment.
            added = await evidence_assessment(sessions, rid)
            assert added.band == "HIGH" and "PILFERAGE_AT_AGENT" in codes(added), codes(added)
    # A claim on a parcel the agent picked up and that came back intact is no part of its
    # evidence: never revised.
    assert world.intact
    for rid in world.intact:
        rows = await revisions_of(sessions, rid)
        assert len(rows) == 1 and rows[0].band != "HIGH", [(r.band, codes(r)) for r in rows]
        assert not any("PILFERAGE" in c for c in codes(rows[0]))
    # Nor is a claim on a light parcel of another agent's pickup.
    assert world.honest
    for rid in world.honest:
        rows = await revisions_of(sessions, rid)
        assert len(rows) == 1 and rows[0].band != "HIGH"


async def test_a_hubs_pilferage_alert_lifts_none_of_its_sellers_claims(
    sessions: async_sessionmaker[Any],
) -> None:
    """A hub's alert counts every agent's parcels through it, and an honest hub alerted falsely
    (a bad day) would send every claim of its incidents to review until it cleared: its
    sellers' claims are left to their own facts, and only its incidents carry the alert."""
    world = await play(sessions, ("hub", "H-0"))

    alerts = await pilferage_alerts(sessions)
    assert ("PILFERAGE_HUB", "H-0") in [(x.pattern, x.entity_id) for x in alerts], [
        (x.pattern, x.entity_id, x.status) for x in alerts
    ]
    lifted_by_agent = {x.entity_id for x in alerts if x.entity_type == "agent"}
    assert len(world.pilfered) >= 4
    for _, rid in world.pilfered:
        rows = await revisions_of(sessions, rid)
        for row in rows:
            assert "PILFERAGE_AT_HUB" not in codes(row), [(r.band, codes(r)) for r in rows]
        added = await evidence_assessment(sessions, rid)
        assert "PILFERAGE_AT_HUB" not in codes(added), codes(added)
        if not lifted_by_agent:
            assert len(rows) == 1 and rows[0].band != "HIGH", [(r.band, codes(r)) for r in rows]
