"""An agent-buyer ring whose agent is named on only part of its parcels (rapidroute leaves the
pickup agent off many of its scans): the buyer's parcels naming no agent at the agent's hub are
not the buyer's record with other agents, so they do not hide the ring; its returns through other
named agents, and on parcels naming no agent at another hub, still are (real PostgreSQL, fraud's
own scoring, a database per run)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.fraud.models import Alert
from services.fraud.scoring.service import assess_event
from shared.events import (
    EventPayload,
)
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey

START = datetime(2026, 5, 4, 9, tzinfo=UTC)
HUB = "H-RR-1"
OTHER_HUB = "H-DP-2"
RING_AGENT = "AG-RR-RING"


def qc_journey(
    rid: str,
    seller: str,
    buyer: str,
    delivered: datetime,
    claim: str | None,
    agent: str | None,
    hub: str = HUB,
) -> list[EventPayload]:
    """A rapidroute return passed at QC on pickup and delivered intact, its agent named on the
    scans or not (`agent` None), and the seller's claim (if any) an hour later."""
    return intact_journey(
        rid,
        seller,
        buyer,
        delivered,
        claim,
        agent,
        hub=hub,
        category="home",
        item_value=180_000,
        description="not the item we sold",
        partner="rapidroute",
        passed_qc=True,
        weight_g=900,
        photo=False,
    )


def when(e: EventPayload) -> datetime:
    at = getattr(e, "filed_at", None) or getattr(e, "occurred_at", None)
    return at if at is not None else e.initiated_at  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("elsewhere", "alerted"),
    [
        # Four of the ring's ten parcels name no agent: they may be the ring agent's, and say
        # nothing of the buyer's returns with anyone else.
        ("unnamed", True),
        # Four returns through other named agents, none disputed: a buyer who disputes only with
        # this agent, but returns elsewhere too; six of six disputes with it, of ten returns, is
        # p = 1/210 on the share test, short of the alert.
        ("other agents", False),
        # Four returns naming no agent at another hub (another partner's, which never names
        # one), none disputed: certainly not this agent's, the buyer's record elsewhere as above.
        ("unnamed elsewhere", False),
    ],
)
async def test_parcels_naming_no_agent_are_not_the_buyers_record_elsewhere(
    harness: Harness, elsewhere: str, alerted: bool
) -> None:
    buyer = uid("B-RING")
    events: list[EventPayload] = []
    # An ordinary marketplace: 240 QC'd deliveries by six named agents to many buyers, about one
    # in twenty claimed as the wrong item.
    for i in range(240):
        claim = "WRONG_ITEM" if i % 21 == 1 else None
        events += qc_journey(
            uid("R-OK"),
            f"S-OK-{i % 9}",
            uid("B-OK"),
            START + timedelta(hours=3 * i),
            claim,
            f"AG-RR-{i % 6}",
        )
    # The ring: six parcels passed at QC by the ring agent and named, all claimed; four more
    # either naming no agent (claimed, as every ring parcel is) or through other named agents
    # (not claimed).
    ring_at = START + timedelta(days=10)
    for n in range(6):
        at = ring_at + timedelta(days=2 * n)
        events += qc_journey(uid("R-RING"), f"S-OK-{n}", buyer, at, "WRONG_ITEM", RING_AGENT)
    for n in range(4):
        at = ring_at + timedelta(days=2 * n + 1)
        if elsewhere == "unnamed":
            events += qc_journey(uid("R-RNA"), f"S-OK-{n + 3}", buyer, at, "WRONG_ITEM", None)
        elif elsewhere == "unnamed elsewhere":
            events += qc_journey(uid("R-DPX"), f"S-OK-{n + 3}", buyer, at, None, None, OTHER_HUB)
        else:
            events += qc_journey(uid("R-ELS"), f"S-OK-{n + 3}", buyer, at, None, f"AG-RR-{n}")
    events.sort(key=when)
    async with fresh_fraud_db(harness, f"test_fraud_ab_unnamed_{elsewhere.replace(' ', '_')}") as s:
        async with s() as session, session.begin():
            for e in events:
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
        async with s() as session:
            ring_alerts = list(
                (
                    await session.scalars(
                        select(Alert).where(
                            Alert.pattern == "COLLUSION_AGENT_BUYER",
                            Alert.entity_id == RING_AGENT,
                        )
                    )
                ).all()
            )
    assert bool(ring_alerts) is alerted
    if alerted:
        numbers = ring_alerts[0].evidence["numbers"]
        assert numbers["buyer_id"] == buyer
        # Judged on the pair's own record: nothing elsewhere through a named agent.
        assert "p_share_of_buyer_disputes" not in numbers
