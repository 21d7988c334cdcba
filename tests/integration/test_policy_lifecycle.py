"""The SOP lifecycle on the real stack: a draft proposed with an effective time and its what-if,
adopted under four eyes, decisions from the effective time under the new version, an older
case's appeal under the version that decided it, and versions that can be retired, never edited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    Engine,
    appeal,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"


@pytest.fixture(scope="module")
async def lifecycle(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "lifecycle") as eng:
        yield eng


async def damage_claim(eng: Engine, *, partner: str, amount: int = 100_000) -> tuple[Any, dict]:
    """No QC at pickup, no weight drop, a damage claim with a video: L11 (buyer liable)."""
    rid = uid("RET-LIFE")
    filed = eng.envelope(escalation(rid, claim="DAMAGED", amount=amount))
    await eng.send(
        return_initiated(rid, partner=partner, item_value=amount),
        scan(rid, "PICKED_UP", T0, weight=1000, partner=partner),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner=partner),
        filed,
        assessed(filed, "LOW"),
    )
    case = await eng.wait_case(rid, lambda c: c["state"] == "CLOSED", what=f"{rid} decided")
    return filed, case


async def test_draft_adopted_under_four_eyes_takes_effect_and_old_appeals_keep_their_version(
    lifecycle: Engine, harness: Harness
) -> None:
    eng = lifecycle
    manager, manager_2, agent = harness.key(MANAGER), harness.key(MANAGER_2), harness.key(AGENT)
    partner = f"p-{uuid.uuid4().hex[:6]}"
    old_filed, old_case = await damage_claim(eng, partner=partner)
    assert old_case["decision"]["policy_version"] == "sop-v1"
    assert old_case["payout"] == 50_000

    version = f"sop-v1.1-{uuid.uuid4().hex[:6]}"
    r = await eng.client.post(
        "/v1/policies",
        json={
            "version": version,
            "changes": {"liability": {"L11": {"payout_pct": 30}}},
            "reason": "Damage claims without QC pay too much",
        },
        headers=manager,
    )
    assert r.status_code == 201, r.text

    effective = eng.clock.now() + timedelta(days=1)
    # Not in the past, and only a manager proposes.
    r = await eng.client.post(
        f"/v1/policies/{version}/propose",
        json={"effective_at": (eng.clock.now() - timedelta(hours=1)).isoformat(), "reason": "x1x"},
        headers=manager,
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem")
    body = {"effective_at": effective.isoformat(), "reason": "Agreed at the ops review"}
    r = await eng.client.post(f"/v1/policies/{version}/propose", json=body, headers=agent)
    assert r.status_code == 403
    r = await eng.client.post(f"/v1/policies/{version}/propose", json=body, headers=manager)
    assert r.status_code == 200, r.text
    proposal = r.json()
    assert proposal["status"] == "PROPOSED"
    summary = proposal["what_if"]["summary"]
    assert summary["cases_changed"] == 1 and summary["payout_delta"] == -20_000
    assert summary["partners_affected"] == [
        {"partner_id": partner, "cases_changed": 1, "partner_debit_delta": 0}
    ]

    # The approver reads the stored what-if; four eyes: not the proposer, not an agent.
    r = await eng.client.get(f"/v1/policies/{version}", headers=manager_2)
    assert r.json()["what_if"]["summary"] == summary
    r = await eng.client.post(f"/v1/policies/{version}/approve", json={}, headers=manager)
    assert r.status_code == 403
    r = await eng.client.post(f"/v1/policies/{version}/approve", json={}, headers=agent)
    assert r.status_code == 403
    r = await eng.client.post(
        f"/v1/policies/{version}/approve", json={"reason": "Read the what-if"}, headers=manager_2
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["in_force"]) == ("ACTIVE", False)

    # Before the effective time new decisions still use sop-v1.
    _, before = await damage_claim(eng, partner=partner)
    assert before["decision"]["policy_version"] == "sop-v1" and before["payout"] == 50_000

    eng.clock.advance(timedelta(days=1, minutes=1))
    r = await eng.client.get("/v1/policies", headers=agent)
    in_force = [p["version"] for p in r.json()["items"] if p["in_force"]]
    assert in_force == [version]
    _, after = await damage_claim(eng, partner=partner)
    assert after["decision"]["policy_version"] == version and after["payout"] == 30_000

    # The older case's appeal is judged under the version that decided it.
    await eng.send(appeal(old_filed.payload, eng.clock.now()))
    await eng.wait_case(old_filed.payload.return_id, lambda c: c["state"] == "APPEALED")
    r = await eng.client.post(
        f"/v1/cases/{old_case['case_id']}/appeal-decision",
        json={"overturn": True, "liable_party": "BUYER", "payout_pct": 60, "reason": "Re-read"},
        headers=manager_2,
    )
    assert r.status_code == 200, r.text
    decided = await eng.case(old_filed.payload.return_id)
    assert decided is not None and decided["decision"]["policy_version"] == "sop-v1"

    # Versions are never edited or deleted; the one in force cannot be retired, an old one can.
    with pytest.raises(Exception, match="cannot be edited"):
        await eng.sql("UPDATE policies SET definition = '{}'::jsonb WHERE version = :v", v="sop-v1")
    with pytest.raises(Exception, match="kept forever"):
        await eng.sql("DELETE FROM policies WHERE version = :v", v="sop-v1")
    r = await eng.client.post(
        f"/v1/policies/{version}/retire", json={"reason": "try it"}, headers=manager
    )
    assert r.status_code == 409
    r = await eng.client.post(
        "/v1/policies/sop-v1/retire", json={"reason": "Superseded"}, headers=manager
    )
    assert r.status_code == 200 and r.json()["status"] == "RETIRED"

    # Every step has its reason and diff, kept in an append-only log.
    r = await eng.client.get(f"/v1/policies/{version}", headers=agent)
    log = r.json()["changes"]
    assert [c["action"] for c in log] == ["DRAFTED", "PROPOSED", "APPROVED"]
    assert [c["actor"] for c in log][1:] == ["manager.ravi", "manager.meera"]
    assert all(
        c["diff"] == [{"field": "liability.L11.payout_pct", "from": 50, "to": 30}] for c in log
    )
    assert log[0]["reason"] == "Damage claims without QC pay too much"
    with pytest.raises(Exception, match="append-only"):
        await eng.sql("DELETE FROM policy_changes")
