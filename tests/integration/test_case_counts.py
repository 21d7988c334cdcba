"""GET /v1/cases/counts: every case state with its number of cases (the console's queue tabs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from shared.events import CaseState
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    Engine,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)


@pytest.fixture(scope="module")
async def counts_engine(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "counts") as eng:
        yield eng


async def test_counts_per_state_for_desk_readers_only(
    counts_engine: Engine, harness: Harness
) -> None:
    eng = counts_engine
    for band in ("HIGH", "HIGH", "LOW"):
        rid = uid("RET-COUNT")
        filed = eng.envelope(escalation(rid))
        await eng.send(
            filed,
            return_initiated(rid),
            scan(rid, "PICKED_UP", T0, weight=1000),
            scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, otp=False),
            assessed(filed, band),
        )
        state = "UNDER_REVIEW" if band == "HIGH" else "CLOSED"
        await eng.wait_case(rid, lambda c, s=state: c["state"] == s)

    response = await eng.client.get(
        "/v1/cases/counts", headers=harness.key("DISPUTEDESK_KEY_FINANCE")
    )
    assert response.status_code == 200, response.text
    counts = response.json()["by_state"]
    assert set(counts) == {s.value for s in CaseState}
    assert counts["UNDER_REVIEW"] == 2 and counts["CLOSED"] == 1 and counts["OPEN"] == 0
    refused = await eng.client.get(
        "/v1/cases/counts", headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    )
    assert refused.status_code == 403
