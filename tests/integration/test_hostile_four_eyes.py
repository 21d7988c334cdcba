"""Four eyes on a policy version: nobody approves what they wrote or put forward (hostile8,
2026-12-07). The approval checked the proposer alone, so the manager who drafted a version
could approve it once a colleague had proposed it, adopting their own words with one other
pair of eyes that never had to agree to the content."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Harness
from tests.support.keys import add_key
from tests.support.reconciliation import Engine, engine

MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"


async def scalar(eng: Engine, sql: str, **params: Any) -> Any:
    async with eng.sessionmaker() as session:
        return (await session.execute(text(sql), params)).scalar()


@pytest.fixture(scope="module")
async def policies(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "four_eyes") as eng:
        yield eng


async def test_neither_the_drafter_nor_the_proposer_approves(
    policies: Engine, harness: Harness
) -> None:
    eng = policies
    drafter, proposer = harness.key(MANAGER), harness.key(MANAGER_2)
    third = add_key(harness.env, f"manager.{uuid.uuid4().hex[:6]}", ["ops_manager"])
    version = f"sop-v1.9-{uuid.uuid4().hex[:6]}"
    r = await eng.client.post(
        "/v1/policies",
        json={
            "version": version,
            "changes": {"liability": {"L11": {"payout_pct": 40}}},
            "reason": "Drafted by one manager",
        },
        headers=drafter,
    )
    assert r.status_code == 201, r.text
    body = {
        "effective_at": (eng.clock.now() + timedelta(days=30)).isoformat(),
        "reason": "Put forward by another",
    }
    r = await eng.client.post(f"/v1/policies/{version}/propose", json=body, headers=proposer)
    assert r.status_code == 200, r.text

    for author in (drafter, proposer):
        r = await eng.client.post(
            f"/v1/policies/{version}/approve", json={"reason": "My own"}, headers=author
        )
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "drafted or proposed" in r.json()["detail"]
    assert await scalar(eng, "SELECT status FROM policies WHERE version = :v", v=version) == (
        "PROPOSED"
    )
    approved = await scalar(
        eng,
        "SELECT count(*) FROM policy_changes WHERE version = :v AND action = 'APPROVED'",
        v=version,
    )
    assert approved == 0

    r = await eng.client.post(
        f"/v1/policies/{version}/approve", json={"reason": "Read it"}, headers=third
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ACTIVE"
    # Retired again, so that nothing else of the test engine is decided under it.
    r = await eng.client.post(
        f"/v1/policies/{version}/retire", json={"reason": "Test version"}, headers=third
    )
    assert r.status_code == 200, r.text
