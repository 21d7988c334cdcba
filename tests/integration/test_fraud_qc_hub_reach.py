"""A hub alerted for QC contradictions does not make HIGH the claims on the passes of its agents
whose own record is ordinary, in fraud's own scoring on real PostgreSQL: the hub's excess lies in
the passes that name no agent, and an honest wrong-item claim on an ordinary agent's pass is not
what the alert found. The claims on the passes naming no agent stay HIGH."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.models import Alert, Assessment
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.conftest import Harness
from tests.integration.test_fraud_qc_per_buyer import ordinary_network, qc_journey
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_qc_hub_reach"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def passes_at_h_x(first: int, last: int, claimed: set[int]) -> list[EventPayload]:
    """H-X's passes `first`..`last - 1`, two a day from day 33, in turn by AG-Xa, AG-Xb, AG-Xa,
    AG-Xb and by no named agent (a partner that leaves the agent off); those in `claimed` are
    later claimed as a wrong item, each by another buyer."""
    events: list[EventPayload] = []
    for i in range(first, last):
        events += qc_journey(
            seller=f"S-{i % 12:02d}",
            buyer=uid("B"),
            hub="H-X",
            agent=("AG-Xa", "AG-Xb", "AG-Xa", "AG-Xb", None)[i % 5],
            day=33 + i * 0.5,
            claim="WRONG_ITEM" if i in claimed else None,
        )
    return events


async def latest_bands(sessions: async_sessionmaker[Any]) -> dict[str, str]:
    """Each claim's band in its latest revision, by escalation id."""
    async with sessions() as session:
        rows = await session.execute(
            select(Assessment.escalation_id, Assessment.band)
            .where(Assessment.escalation_id.is_not(None))
            .order_by(Assessment.escalation_id, Assessment.revision)
        )
        return dict(rows.tuples().all())


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
    escalations = {}
    async with sessions() as session, session.begin():
        for e in events:
            assessed = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
            if assessed.escalation_id:
                escalations[assessed.escalation_id] = assessed
    async with sessions() as session:
        alerts = (
            await session.execute(
                select(Alert.entity_id, Alert.evidence).where(
                    Alert.pattern == "QC_CONTRADICTION_HUB"
                )
            )
        ).all()
    # The hub is alerted (its excess is not one agent's), naming its two agents as ordinary.
    assert [a for a, _ in alerts] == ["H-X"]
    assert qc.ordinary_agents(alerts[0][1]["numbers"]) == {"AG-Xa", "AG-Xb"}
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
