"""A QC agent weighed against peers without the contradictions of buyers under a wrong/used
alert, in fraud's own scoring on real PostgreSQL: buyers returning wrong items across sellers
contradict the passes of every agent their returns go through, once each; counted, they lift
every agent alike, and a QC agent at three times its ordinary peers no longer stands out."""

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

DB = "test_fraud_qc_wrong_used_buyers"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def test_a_qc_agent_is_found_though_wrong_used_buyers_lift_every_agent(
    sessions: async_sessionmaker[Any],
) -> None:
    # Ten agents at five hubs, each with 80 passes of which 2 are contradicted (1 in 40).
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # Five buyers each return four items to four sellers through four agents, every one
    # claimed as a wrong item: each agent has two of their contradictions more, 4 in 82
    # (about twice its ordinary rate), and each buyer is alerted for wrong/used returns.
    events: list[EventPayload] = []
    for b in range(5):
        for i in range(4):
            agent = AGENTS[(2 * b + i) % len(AGENTS)]
            events += qc_journey(
                seller=f"S-{b}{i}",
                buyer=f"B-WU-{b}",
                hub=f"H-{agent[3]}",
                agent=agent,
                day=30 + b + i * 0.2,
                claim="WRONG_ITEM",
            )
    await score_events(sessions, events)
    assert await wrong_used_alerts(sessions) == {f"B-WU-{b}" for b in range(5)}
    # AG-5b passes 100 more, one in seven later claimed as a wrong item, each by another
    # buyer: 16 of 180 without the alerted buyers (three times its ordinary peers' 1 in 40),
    # 18 of 182 with them, under twice the peers' 4 in 82.
    alerted = await agent_5b_passes(sessions, 100, from_day=36, apart=0.2, claimed=(7, 3))
    assert ("agent", "AG-5b") in alerted
    # The agents the buyers went through are not flagged for them.
    assert not alerted & {("agent", a) for a in AGENTS if a != "AG-5b"}
