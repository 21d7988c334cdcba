"""A QC agent weighed without the contradictions of buyers named away from it, in fraud's own
scoring on real PostgreSQL: a buyer whose items are claimed as wrong through several agents
contradicts each of their passes, long before (or without ever) being alerted for wrong/used
returns; counted, such buyers lift every agent alike and a QC agent at three times its
ordinary peers no longer stands out. The agent's own victims, named only on its passes, stay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, score_events
from tests.support.fraud_qc import (
    AGENTS,
    agent_5b_passes,
    ordinary_network,
    qc_journey,
    wrong_used_alerts,
)

DB = "test_fraud_qc_named_elsewhere"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def test_a_qc_agent_is_found_though_buyers_named_elsewhere_lift_every_agent(
    sessions: async_sessionmaker[Any],
) -> None:
    # Ten agents at five hubs, each with 80 passes of which 2 are contradicted (1 in 40).
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # Ten buyers each return two items to two sellers through two agents, both claimed as a
    # wrong item: each agent has two contradictions more, 4 in 82, each by a buyer named on
    # another agent's pass too. Two named claims are too few for a wrong/used alert.
    events: list[EventPayload] = []
    for b in range(10):
        for i in range(2):
            agent = AGENTS[(b + 5 * i) % len(AGENTS)]
            events += qc_journey(
                seller=f"S-{b}{i}",
                buyer=f"B-TWICE-{b}",
                hub=f"H-{agent[3]}",
                agent=agent,
                day=30 + b * 0.5 + i * 0.2,
                claim="WRONG_ITEM",
            )
    await score_events(sessions, events)
    assert not await wrong_used_alerts(sessions)
    # AG-5b passes 100 more, one in seven later claimed as a wrong item, each by another buyer
    # named nowhere else: 16 of 180 without the twice-named buyers (three times its ordinary
    # peers' 1 in 40), 18 of 182 with them, under twice the peers' 4 in 82.
    alerted = await agent_5b_passes(sessions, 100, from_day=36, apart=0.2, claimed=(7, 3))
    assert ("agent", "AG-5b") in alerted
    # Neither the agents nor the hubs the buyers went through are flagged for them.
    assert not alerted & {("agent", a) for a in AGENTS if a != "AG-5b"}
    assert not alerted & {("hub", f"H-{h}") for h in range(1, 5)}
