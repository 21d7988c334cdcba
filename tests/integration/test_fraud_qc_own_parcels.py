"""A QC agent's own parcels are not "away" from it, in fraud's own scoring on real PostgreSQL:
a buyer whose other claim fell on a parcel the same agent picked up without QC is that agent's
customer, not a buyer named elsewhere, and their contradiction of the agent's pass stays in its
counts (`features.contradicting_buyers`, `own_parcels`). Read from the QC passes alone, the
agent's own pickups counted as away, and a careless agent lost the evidence of the buyers of
its own area, who return most of their parcels through it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import (
    EventPayload,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from tests.conftest import Harness
from tests.integration.test_fraud_qc_per_buyer import (
    START,
    ordinary_network,
    qc_alerts,
    qc_journey,
    score,
)
from tests.integration.test_fraud_qc_wrong_used_buyers import AGENTS
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_qc_own_parcels"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def pickup_claimed(
    *, seller: str, buyer: str, hub: str, agent: str, day: float
) -> list[EventPayload]:
    """A return `agent` picked up without QC, delivered intact, claimed as a missing item."""
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
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=delivered - timedelta(days=3),
        )
    ]
    for kind, at in (
        (ShipmentEventType.PICKED_UP, delivered - timedelta(days=2)),
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
    out.append(
        SellerEscalationFiled(
            escalation_id=f"ESC-{rid}",
            return_id=rid,
            seller_id=seller,
            claim_type="MISSING_ITEM",
            claimed_amount=150_000,
            description="an item missing from the parcel",
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


async def test_a_buyer_named_on_the_agents_own_pickups_still_counts_against_its_passes(
    sessions: async_sessionmaker[Any],
) -> None:
    # Ten agents at five hubs, each with 80 passes of which 2 are contradicted (1 in 40).
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # AG-5b passes 100 more, one in seven later claimed as a wrong item, each by another buyer:
    # 16 of 180 (three times its peers' 1 in 40). Seven of its fourteen buyers had an item
    # claimed missing a day before, on a parcel AG-5b itself picked up without QC. Read as
    # named away from it, they would leave with their passes: 9 of 173, about twice its peers.
    events: list[EventPayload] = []
    for i in range(100):
        buyer = uid("B")
        day = 36 + i * 0.2
        claimed = i % 7 == 3
        if claimed and i % 14 == 3:
            events += pickup_claimed(
                seller="S-X", buyer=buyer, hub="H-5", agent="AG-5b", day=day - 1
            )
        events += qc_journey(
            seller=f"S-{i % 12:02d}",
            buyer=buyer,
            hub="H-5",
            agent="AG-5b",
            day=day,
            claim="WRONG_ITEM" if claimed else None,
        )
    await score(sessions, events)
    alerted = await qc_alerts(sessions)
    assert ("agent", "AG-5b") in alerted
    assert not alerted & {("agent", a) for a in AGENTS if a != "AG-5b"}
