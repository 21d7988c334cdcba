"""A hub alerted for QC contradictions does not make HIGH the claims on the passes of its agents
whose own record is ordinary, in fraud's own scoring on real PostgreSQL: the hub's excess lies in
the passes that name no agent, and an honest wrong-item claim on an ordinary agent's pass is not
what the alert found. The claims on the passes naming no agent stay HIGH."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.detectors import qc_contradiction as qc
from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.fraud import claims_scored, fresh_fraud_db
from tests.support.fraud_qc import hub_passes, latest_bands, ordinary_network, qc_alert_rows

DB = "test_fraud_qc_hub_reach"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def passes_at_h_x(first: int, last: int, claimed: set[int]) -> list[EventPayload]:
    """H-X's passes `first`..`last - 1`, two a day from day 33, in turn by AG-Xa, AG-Xb, AG-Xa,
    AG-Xb and by no named agent (a partner that leaves the agent off); those in `claimed` are
    later claimed as a wrong item, each by another buyer."""
    agents = ("AG-Xa", "AG-Xb", "AG-Xa", "AG-Xb", None)
    return hub_passes("H-X", agents, range(first, last), from_day=33, apart=0.5, claimed=claimed)


async def test_a_hub_alert_leaves_its_ordinary_agents_passes_alone(
    sessions: async_sessionmaker[Any],
) -> None:
    await ordinary_network(sessions, hubs=4, per_agent=50)
    # Fifty passes as ordinary as the other hubs' but for one claim on AG-Xa's pass (one in
    # its twenty-odd passes, about its peers' rate); then every pass naming no agent claimed.
    events = passes_at_h_x(0, 100, {50} | {i for i in range(54, 100, 5)})
    # After the hub's alert: an honest claim on AG-Xb's pass (its first), and one on a pass
    # naming no agent.
    events += passes_at_h_x(100, 105, {101, 104})
    escalations = {a.escalation_id: a for a in await claims_scored(sessions, events)}
    alerts = [a for a in await qc_alert_rows(sessions) if a.pattern == "QC_CONTRADICTION_HUB"]
    # The hub is alerted (its excess is not one agent's), naming its two agents as ordinary.
    assert [a.entity_id for a in alerts] == ["H-X"]
    assert qc.ordinary_agents(alerts[0].evidence["numbers"]) == {"AG-Xa", "AG-Xb"}
    bands = await latest_bands(sessions)
    early, late_named, late_unnamed = (
        [eid for eid, a in escalations.items() if a.entities.agent_id == agent][k]
        for agent, k in (("AG-Xa", 0), ("AG-Xb", -1), (None, -1))
    )
    # The early claim on AG-Xa's pass is not revised HIGH by the hub's alert, the later one on
    # AG-Xb's does not take its floor, and neither is HIGH on the hub's live finding.
    assert bands[early] != "HIGH"
    assert bands[late_named] != "HIGH"
    hub_reasons = [
        r for r in escalations[late_named].reasons if r.code.startswith("HUB_QC_CONTRADICTION")
    ]
    assert hub_reasons and all(r.contribution <= 0.6 for r in hub_reasons)
    # The hub still answers for the passes that name no agent.
    assert bands[late_unnamed] == "HIGH"
