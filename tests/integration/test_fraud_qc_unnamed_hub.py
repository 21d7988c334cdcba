"""A QC hub whose agents are not named, in fraud's own scoring on real PostgreSQL: it cannot be
held to the named hubs' second condition (telling without its worst agent), so it is alerted
only at the stricter level (a Bayes factor of 1,000, `qc_unnamed_hub_seq_alpha`); between the
shared alert and that level it stays MEDIUM, and past it the alert is raised."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Container
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.scoring.base import default_config
from shared.events import FraudAssessed
from tests.conftest import Harness
from tests.support.fraud import claims_scored, fresh_fraud_db
from tests.support.fraud_qc import hub_passes, ordinary_network, qc_alerts

DB = "test_fraud_qc_unnamed_hub"
HUB = ("hub", "H-D")


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


async def unnamed_hub_passes(
    sessions: async_sessionmaker[Any], passes: range, claimed: Container[int]
) -> list[FraudAssessed]:
    """H-D passes these (no agent named), five a day from day 33; those in `claimed` are later
    claimed as a wrong item, each by another buyer. The assessments of the claims."""
    events = hub_passes("H-D", [None], passes, from_day=33, apart=0.2, claimed=claimed)
    return await claims_scored(sessions, events)


def hub_finding(assessed: FraudAssessed) -> dict[str, Any]:
    """The numbers of the claim's hub QC finding ({} before the hub has one)."""
    found = [r for r in assessed.reasons if r.code.startswith("HUB_QC_CONTRADICTION")]
    return dict(found[0].numbers) if found else {}


async def test_a_hub_without_named_agents_is_alerted_only_at_the_stricter_level(
    sessions: async_sessionmaker[Any],
) -> None:
    s = default_config()
    await ordinary_network(sessions, hubs=5, per_agent=80)
    # Ten contradicting buyers in 90 passes, about four times the hubs' 2.5 %: past the shared
    # alert (200) but short of 1,000. A hub whose agents were named could be checked without
    # its worst agent; this one is held to MEDIUM.
    claims = await unnamed_hub_passes(sessions, range(90), claimed=range(4, 90, 9))
    best = max(hub_finding(c).get("log_bayes_factor", -math.inf) for c in claims)
    assert math.log(1 / s.sequential.alpha) < best < math.log(1 / s.qc_unnamed_hub_seq_alpha)
    assert any(hub_finding(c).get("alert_bayes_factor") == 1000 for c in claims)
    assert HUB not in await qc_alerts(sessions)
    # Ten more in the next 30 passes: past 1,000, the hub is alerted.
    claims = await unnamed_hub_passes(sessions, range(90, 120), claimed=range(91, 120, 3))
    assert hub_finding(claims[-1])["log_bayes_factor"] >= math.log(1000)
    assert HUB in await qc_alerts(sessions)
