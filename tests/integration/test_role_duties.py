"""Roles are separate duties: every endpoint refuses every role it does not name (admin
included), admin cannot approve a payout, and four eyes hold for a client with several roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.access import route_access
from shared.auth import Principal, Role
from tests.conftest import ROOT, Harness
from tests.integration.test_reconciliation_desk import MANAGER_2, review_case
from tests.support.keys import DUTY_KEYS, add_key
from tests.support.reconciliation import Engine, engine
from tests.support.routes import service_apps


def _concrete(path: str) -> str:
    """A path template with placeholder values: the role check runs before any lookup."""
    return re.sub(r"\{[^}]+\}", lambda m: str(uuid.UUID(int=1)), path)


async def test_every_endpoint_refuses_every_role_it_does_not_name(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    checked = 0
    for name, svc in pipeline.items():
        for route in route_access(svc.app):
            if not route.roles:
                continue
            for role, env_name in DUTY_KEYS.items():
                if role in route.roles:
                    continue
                r = await svc.client.request(
                    route.method,
                    _concrete(route.path),
                    headers=harness.key(env_name),
                    json={},
                )
                assert r.status_code == 403, (name, route.method, route.path, role, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
                checked += 1
    assert checked > 100  # the matrix really was walked


def test_admin_holds_no_ops_role() -> None:
    admin = Principal("admin", frozenset({Role.ADMIN}))
    assert not admin.can_act_for_seller("S-1")
    assert not admin.has(Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)


def test_docs_matrix_matches_the_route_tables() -> None:
    """docs/security.md lists every authenticated endpoint with the roles that may call it."""
    text = (ROOT / "docs" / "security.md").read_text()
    documented = set()
    for m in re.finditer(r"^\| (\w+) \| `(\w+) ([^`]+)` \| ([^|]+)\|", text, re.M):
        roles = frozenset(r.strip() for r in m.group(4).replace("`", "").split(","))
        documented.add((m.group(1), m.group(2), m.group(3), roles))
    actual = set()
    for name, app in service_apps().items():
        for route in route_access(app):
            if route.roles:
                actual.add((name, route.method, route.path, route.roles))
    assert documented == actual, (sorted(documented - actual), sorted(actual - documented))


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "duties") as eng:
        yield eng


async def test_admin_cannot_approve_a_payout_above_the_cap(desk: Engine, harness: Harness) -> None:
    case = await review_case(desk, partner="swiftship", amount=3_000_000, item_value=3_000_000)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=harness.key("DISPUTEDESK_KEY_OPS_MANAGER"),
        json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner admitted it"},
    )
    assert r.json()["state"] == "ESCALATED", r.text
    r = await desk.client.post(
        f"/v1/cases/{cid}/approve", json={}, headers=harness.key("DISPUTEDESK_KEY_ADMIN")
    )
    assert r.status_code == 403, r.text
    r = await desk.client.post(f"/v1/cases/{cid}/approve", json={}, headers=harness.key(MANAGER_2))
    assert r.status_code == 200, r.text


async def test_four_eyes_hold_for_a_client_with_agent_and_manager_roles(
    desk: Engine, harness: Harness
) -> None:
    both = add_key(harness.env, f"dual.{uuid.uuid4().hex[:6]}", [Role.OPS_AGENT, Role.OPS_MANAGER])
    case = await review_case(desk, partner="swiftship", amount=3_000_000, item_value=3_000_000)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=both,
        json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner admitted it"},
    )
    assert r.json()["state"] == "ESCALATED", r.text
    r = await desk.client.post(f"/v1/cases/{cid}/approve", json={}, headers=both)
    assert r.status_code == 403 and "Four eyes" in r.json()["detail"]
    r = await desk.client.post(f"/v1/cases/{cid}/approve", json={}, headers=harness.key(MANAGER_2))
    assert r.status_code == 200, r.text
