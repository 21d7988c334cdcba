"""QC contradictions counted per buyer, in fraud's own scoring on real PostgreSQL: one buyer who
keeps returning wrong items through one agent is the buyer's pattern, not the agent's or the
hub's QC practice; an agent who passes the wrong items of many buyers is still found."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import (
    EventPayload,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_qc_per_buyer"
START = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def qc_journey(
    *, seller: str, buyer: str, hub: str, agent: str | None, day: float, claim: str | None
) -> list[EventPayload]:
    """A return passed at QC by `agent` at pickup (None: a partner that names no agent),
    delivered intact, and claimed (if at all) an hour later."""
    rid = uid("R")
    delivered = START + timedelta(days=day)
    out: list[EventPayload] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id=seller,
            buyer_id=buyer,
            category="fashion",
            item_value=150_000,
            qc_required=True,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=delivered - timedelta(days=3),
        )
    ]
    for kind, at in (
        (ShipmentEventType.QC_PASSED, delivered - timedelta(days=2)),
        (ShipmentEventType.DELIVERED_TO_SELLER, delivered),
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
                weight_g=600,
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
                claimed_amount=150_000,
                description="not the item sold",
                channel="EMAIL",
                filed_at=delivered + timedelta(hours=1),
                filed_by="test",
                evidence=[
                    {
                        "kind": "PHOTO",
                        "uri": f"https://evidence.example/{rid}.jpg",
                        "sha256": uuid.uuid4().hex * 2,
                        "captured_at": delivered.isoformat(),
                    }
                ],
            )
        )
    return out


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


async def qc_alerts(sessions: async_sessionmaker[Any]) -> set[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Alert.entity_type, Alert.entity_id).where(
                Alert.pattern.like("QC_CONTRADICTION_%")
            )
        )
        return {(t, i) for t, i in rows}


async def ordinary_network(sessions: async_sessionmaker[Any], *, hubs: int, per_agent: int) -> None:
    """Hubs of two agents each; one QC pass in 40 contradicted, each by a different buyer."""
    events: list[EventPayload] = []
    for h in range(1, hubs + 1):
        for a in ("a", "b"):
            for i in range(per_agent):
                events += qc_journey(
                    seller=f"S-{i % 12:02d}",
                    buyer=uid("B"),
                    hub=f"H-{h}",
                    agent=f"AG-{h}{a}",
                    day=i * 0.4,
                    claim="WRONG_ITEM" if i % 40 == 17 else None,
                )
    await score(sessions, events)


async def agent_5b_passes(
    sessions: async_sessionmaker[Any],
    passes: int,
    *,
    from_day: float,
    apart: float,
    claimed: tuple[int, int],
) -> set[tuple[str, str]]:
    """AG-5b (hub H-5) passes `passes` more, `apart` days apart from `from_day`; the i-th is
    later claimed as a wrong item when i % claimed[0] == claimed[1], each by another buyer.
    The QC alerts raised by then."""
    every, which = claimed
    events: list[EventPayload] = []
    for i in range(passes):
        events += qc_journey(
            seller=f"S-{i % 12:02d}",
            buyer=uid("B"),
            hub="H-5",
            agent="AG-5b",
            day=from_day + i * apart,
            claim="WRONG_ITEM" if i % every == which else None,
        )
    await score(sessions, events)
    return await qc_alerts(sessions)


async def test_one_buyers_repeated_wrong_items_do_not_brand_the_agent_or_the_hub(
    sessions: async_sessionmaker[Any],
) -> None:
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # One buyer returns ten items of ten sellers through AG-1a, every one claimed as a wrong
    # item: 12 of 90 passes contradicted, five times the agents' rate, all but two of them
    # by this buyer. Counted per buyer, the agent's record is 3 of 81.
    events: list[EventPayload] = []
    for i in range(10):
        events += qc_journey(
            seller=f"S-{i:02d}",
            buyer="B-WRONG",
            hub="H-1",
            agent="AG-1a",
            day=30 + i * 0.5,
            claim="WRONG_ITEM",
        )
    await score(sessions, events)
    assert not (await qc_alerts(sessions)) & {("agent", "AG-1a"), ("hub", "H-1")}


async def test_an_agent_passing_many_buyers_wrong_items_is_still_found(
    sessions: async_sessionmaker[Any],
) -> None:
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # AG-5b passes the wrong items of twelve different buyers among 60 more passes.
    alerted = await agent_5b_passes(sessions, 60, from_day=32, apart=0.3, claimed=(5, 2))
    assert ("agent", "AG-5b") in alerted
