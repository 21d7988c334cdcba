"""A QC agent weighed against peers counted as it is, once per buyer, in fraud's own scoring on
real PostgreSQL: buyers who keep returning wrong items through other agents (their own pattern,
or a ring's) no longer lift the agents' baseline until a QC agent at three times its ordinary
peers looks ordinary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, score_events
from tests.support.fraud_qc import agent_5b_passes, ordinary_network, qc_journey

DB = "test_fraud_qc_peers_per_buyer"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def test_a_qc_agent_is_found_though_repeating_buyers_lift_the_raw_baseline(
    sessions: async_sessionmaker[Any],
) -> None:
    # Ten agents at five hubs, each with 80 passes of which 2 are contradicted (1 in 40).
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # Through four of them, one buyer each returns six items more, every one claimed as a
    # wrong item: raw, those agents run at 8 in 86 and lift the agents' rate from 2.5 % to
    # 5.6 %; counted per buyer they are at 3 in 81, like the others.
    events: list[EventPayload] = []
    for h in range(1, 5):
        for i in range(6):
            events += qc_journey(
                seller=f"S-{i:02d}",
                buyer=f"B-REPEATS-{h}",
                hub=f"H-{h}",
                agent=f"AG-{h}a",
                day=33 + i * 0.5,
                claim="WRONG_ITEM",
            )
    await score_events(sessions, events)
    # AG-5b passes 100 more, one in six later claimed as a wrong item, each by another buyer:
    # 18 of 180, three times its ordinary peers but under twice the raw rate.
    alerted = await agent_5b_passes(sessions, 100, from_day=36, apart=0.2, claimed=(6, 3))
    assert ("agent", "AG-5b") in alerted
    # The repeating buyers' agents stay unflagged (their buyers are another pattern's).
    assert not alerted & {("agent", f"AG-{h}a") for h in range(1, 5)}
