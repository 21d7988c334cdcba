"""A hub whose QC-contradiction excess two of its agents carry, neither telling on its own, in
fraud's own scoring on real PostgreSQL: the alert goes to the two agents (the hub's finding,
naming the hub), not to the hub, and the claims on their passes are HIGH.

The agents' honest rate (2 %) runs above the hubs' (1 %: the ordinary hubs' passes naming no
agent are rarely claimed), as a world's cheating agents lift the agents' rate: each agent's 3
contradictions in 24 passes are short of MEDIUM against the agents, and too few for an agent's
own alert, while the hub's 6 in 48 are well past its alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.models import Assessment, ReturnFacts
from services.fraud.scoring.base import default_config
from shared.events import EventPayload
from tests.conftest import Harness
from tests.support.fraud import claims_scored, fresh_fraud_db, score_events
from tests.support.fraud_qc import (
    hub_passes,
    latest_bands,
    ordinary_network,
    qc_alert_rows,
    qc_alerts,
    qc_pass,
)

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
        for e in hub_passes(f"H-{h}", [None], range(per_hub), from_day=0, apart=0.2)
    ]


# H-X's named passes: AG-Xa and AG-Xb in turn, 48 passes two a day from day 25; three of each
# one's claimed as a wrong item, each by another buyer.
CARRIERS = ("AG-Xa", "AG-Xb")
CARRIED = {6, 22, 38, 11, 27, 43}


async def test_two_agents_carrying_a_hub_are_alerted_in_its_place(
    sessions: async_sessionmaker[Any],
) -> None:
    await ordinary_network(sessions, hubs=4, per_agent=50)
    await score_events(sessions, unnamed_passes(4, 100))
    events = hub_passes("H-X", CARRIERS, range(48), from_day=25, apart=0.5, claimed=CARRIED)
    escalations = {a.escalation_id: a for a in await claims_scored(sessions, events)}
    alerts = await qc_alert_rows(sessions)
    assert {(a.entity_type, a.entity_id) for a in alerts} == {
        ("agent", "AG-Xa"),
        ("agent", "AG-Xb"),
    }
    for a in alerts:
        assert a.evidence["code"] == qc.AGENT_AT_HUB
        assert a.evidence["numbers"]["hub_id"] == "H-X"
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
    await score_events(sessions, unnamed_passes(4, 100))
    unnamed_claimed = {4, 44}
    events: list[EventPayload] = []
    for i in range(48):
        day = 25 + i * 0.5
        events += qc_pass(i, hub="H-X", agent=CARRIERS[i % 2], day=day, claimed=i in CARRIED)
        if i % 4 == 0:
            events += qc_pass(
                i, hub="H-X", agent=None, day=day + 0.25, claimed=i in unnamed_claimed
            )
        if i % 2 == 0:
            events += qc_pass(i, hub="H-X", agent="AG-Xc", day=day + 0.1, claimed=i == 46)
    reach = replace(default_config(), qc_unnamed_carrier_reach=True)
    escalations = [a.escalation_id for a in await claims_scored(sessions, events, reach)]
    assert await qc_alerts(sessions) == {("agent", "AG-Xa"), ("agent", "AG-Xb")}
    async with sessions() as session:
        reasons = {
            esc: [r["code"] for r in rs]
            for esc, rs in (
                await session.execute(
                    select(Assessment.escalation_id, Assessment.reasons)
                    .where(Assessment.escalation_id.is_not(None))
                    .order_by(Assessment.escalation_id, Assessment.revision)
                )
            )
        }
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
        return {str(e): a for e, a in rows}
