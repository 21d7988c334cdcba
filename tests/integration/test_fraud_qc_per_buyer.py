"""QC contradictions counted per buyer, in fraud's own scoring on real PostgreSQL: one buyer who
keeps returning wrong items through one agent is the buyer's pattern, not the agent's or the
hub's QC practice; an agent who passes the wrong items of many buyers is still found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, score_events
from tests.support.fraud_qc import agent_5b_passes, ordinary_network, qc_alerts, qc_journey

DB = "test_fraud_qc_per_buyer"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


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
    await score_events(sessions, events)
    assert not (await qc_alerts(sessions)) & {("agent", "AG-1a"), ("hub", "H-1")}


async def test_an_agent_passing_many_buyers_wrong_items_is_still_found(
    sessions: async_sessionmaker[Any],
) -> None:
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # AG-5b passes the wrong items of twelve different buyers among 60 more passes.
    alerted = await agent_5b_passes(sessions, 60, from_day=32, apart=0.3, claimed=(5, 2))
    assert ("agent", "AG-5b") in alerted
