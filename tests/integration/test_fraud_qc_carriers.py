"""A hub whose QC-contradiction excess two of its agents carry, neither telling on its own, in
fraud's own scoring on real PostgreSQL: the alert goes to the two agents (the hub's finding,
naming the hub), not to the hub, and the claims on their passes are HIGH.

The agents' honest rate (2 %) runs above the hubs' (1 %: the ordinary hubs' passes naming no
agent are rarely claimed), as a world's cheating agents lift the agents' rate: each agent's 3
contradictions in 24 passes are short of MEDIUM against the agents, and too few for an agent's
own alert, while the hub's 6 in 48 are well past its alert."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.models import Alert, Assessment, ReturnFacts
from services.fraud.scoring.base import default_config
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload
from tests.conftest import Harness
from tests.integration.test_fraud_qc_hub_reach import latest_bands
from tests.integration.test_fraud_qc_per_buyer import ordinary_network, qc_journey, score
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db

DB = "test_fraud_qc_carriers"


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def unnamed_passes(hubs: int, per_hub: int) -> list[EventPayload]:
    """`per_hub` passes naming no agent at each ordinary hub, none claimed."""
    return [
        e
        for h in range(1, hubs + 1)
        for i in range(per_hub)
        for e in qc_journey(
            seller=f"S-{i % 12:02d}",
            buyer=uid("B"),
            hub=f"H-{h}",
            agent=None,
            day=i * 0.2,
            claim=None,
        )
    ]


async def test_two_agents_carrying_a_hub_are_alerted_in_its_place(
    sessions: async_sessionmaker[Any],
) -> None:
    await ordinary_network(sessions, hubs=4, per_agent=50)
    await score(sessions, unnamed_passes(4, 100))
    # H-X: AG-Xa and AG-Xb in turn, 48 passes from day 25; three of each one's claimed as a
    # wrong item, each by another buyer.
    claimed = {6, 22, 38, 11, 27, 43}
    events: list[EventPayload] = []
    for i in range(48):
        events += qc_journey(
            seller=f"S-{i % 12:02d}",
            buyer=uid("B"),
            hub="H-X",
            agent=("AG-Xa", "AG-Xb")[i % 2],
            day=25 + i * 0.5,
            claim="WRONG_ITEM" if i in claimed else None,
        )
    escalations = {}
    async with sessions() as session, session.begin():
        for e in events:
            assessed = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
            if assessed.escalation_id:
                escalations[assessed.escalation_id] = assessed
    async with sessions() as session:
        alerts = (
            await session.execute(
                select(Alert.entity_type, Alert.entity_id, Alert.evidence).where(
                    Alert.pattern.like("QC_CONTRADICTION_%")
                )
            )
        ).all()
    assert {(t, i) for t, i, _ in alerts} == {("agent", "AG-Xa"), ("agent", "AG-Xb")}
    for _, _, evidence in alerts:
        assert evidence["code"] == qc.AGENT_AT_HUB
        assert evidence["numbers"]["hub_id"] == "H-X"
    # Every claim on their passes is HIGH once they are alerted (revisions).
    bands = await latest_bands(sessions)
    assert len(escalations) == 6
    assert {bands[e] for e in escalations} == {"HIGH"}


async def test_a_carriers_alert_reaches_its_hubs_passes_naming_no_agent(
    sessions: async_sessionmaker[Any],
) -> None:
    """As above, with every fourth slot at H-X a pass naming no agent (a partner leaving the
    agent off) and an ordinary third agent, AG-Xc: the claim on an unnamed pass before the
    carriers' alert is revised to HIGH when it is raised, the one after it is HIGH on its
    first assessment (the carriers hold every named contradiction), and AG-Xc's claim is not
    lifted. Before, both unnamed claims stayed at the hub's MEDIUM (as they do with
    `qc_unnamed_carrier_reach` off; it is on by default)."""
    await ordinary_network(sessions, hubs=4, per_agent=50)
    await score(sessions, unnamed_passes(4, 100))
    claimed = {6, 22, 38, 11, 27, 43}
    unnamed_claimed = {4, 44}
    events: list[EventPayload] = []
    for i in range(48):
        events += qc_journey(
            seller=f"S-{i % 12:02d}",
            buyer=uid("B"),
            hub="H-X",
            agent=("AG-Xa", "AG-Xb")[i % 2],
            day=25 + i * 0.5,
            claim="WRONG_ITEM" if i in claimed else None,
        )
        if i % 4 == 0:
            events += qc_journey(
                seller=f"S-{i % 12:02d}",
                buyer=uid("B"),
                hub="H-X",
                agent=None,
                day=25 + i * 0.5 + 0.25,
                claim="WRONG_ITEM" if i in unnamed_claimed else None,
            )
        if i % 2 == 0:
            events += qc_journey(
                seller=f"S-{i % 12:02d}",
                buyer=uid("B"),
                hub="H-X",
                agent="AG-Xc",
                day=25 + i * 0.5 + 0.1,
                claim="WRONG_ITEM" if i == 46 else None,
            )
    reach = replace(default_config(), qc_unnamed_carrier_reach=True)
    escalations: list[str] = []
    async with sessions() as session, session.begin():
        for e in events:
            assessed = await assess_event(
                session, payload=e, subject_event_id=uuid.uuid4(), config=reach
            )
            if assessed.escalation_id:
                escalations.append(assessed.escalation_id)
    async with sessions() as session:
        alerts = (
            await session.execute(
                select(Alert.entity_type, Alert.entity_id).where(
                    Alert.pattern.like("QC_CONTRADICTION_%")
                )
            )
        ).all()
        reasons = {
            esc: [r["code"] for r in rs]
            for esc, rs in (
                await session.execute(
                    select(Assessment.escalation_id, Assessment.reasons)
                    .where(Assessment.escalation_id.is_not(None))
                    .order_by(Assessment.escalation_id, Assessment.revision)
                )
            ).tuples()
        }
    assert {(t, i) for t, i in alerts} == {("agent", "AG-Xa"), ("agent", "AG-Xb")}
    bands = await latest_bands(sessions)
    facts = await returns_of(sessions, escalations)
    on_unnamed = [e for e in escalations if facts[e] is None]
    on_xc = [e for e in escalations if facts[e] == "AG-Xc"]
    assert len(on_unnamed) == 2 and len(on_xc) == 1
    for e in on_unnamed:
        assert bands[e] == "HIGH"
        assert qc.UNNAMED_AT_HUB in reasons[e]
    assert bands[on_xc[0]] != "HIGH"
    assert qc.UNNAMED_AT_HUB not in reasons[on_xc[0]]


async def returns_of(
    sessions: async_sessionmaker[Any], escalations: list[str]
) -> dict[str, str | None]:
    """Each escalation's QC agent, as fraud's facts hold it."""
    async with sessions() as session:
        rows = await session.execute(
            select(ReturnFacts.escalation_id, ReturnFacts.qc_agent_id).where(
                ReturnFacts.escalation_id.in_(escalations)
            )
        )
        return {str(e): a for e, a in rows.tuples()}
