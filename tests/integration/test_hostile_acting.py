"""The field probe of `test_hostile_fields.py`, on the routes that act only in one state of their
object, each request sent where the route acts: a case under review (decide, escalate, ask for
evidence), a proposal awaiting its second pair of eyes (approve), an appealed decision (decide
the appeal), a partner's open debit notice (contest) and a contested one (rule). Probed on any
object, these routes answered 409 at their state check before the body was looked at, so the
hostile values never reached the code that pays, reverses or debits.

Each route's documented example is accepted (2xx) in that state; each classic value in each
field answers anything but a 5xx, refusals as problem+json. A request that acted used its object
up, so the next one gets a fresh one. The cases' ledgers balance at the end.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_fields import (
    CLASSICS,
    PROBLEM,
    _example,
    _leaves,
    _patiently,
    _with,
)
from tests.integration.test_money_races import _appealed_case, _partner_notice, _review_case
from tests.support.reconciliation import Engine, engine
from tests.support.routes import service_apps

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"
PARTNER_RAPIDROUTE = "DISPUTEDESK_KEY_PARTNER_RAPIDROUTE"
PARTNER_LOST_IT = {"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner lost it"}


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "hostile_acting") as eng:
        yield eng


@dataclass(frozen=True)
class Acting:
    """A route, the key that may act on it, and how to make an object in the state it acts on
    (answering the request's path)."""

    path: str
    key_env: str
    make: Callable[[Harness, Engine], Awaitable[str]]


async def _under_review(harness: Harness, desk: Engine) -> str:
    case_id, _ = await _review_case(desk)
    return case_id


async def _proposed(harness: Harness, desk: Engine) -> str:
    case_id, _ = await _review_case(desk, amount=3_000_000)
    r = await desk.client.post(
        f"/v1/cases/{case_id}/decision", json=PARTNER_LOST_IT, headers=harness.key(MANAGER)
    )
    assert r.json()["state"] == "ESCALATED", r.text
    return case_id


async def _appealed(harness: Harness, desk: Engine) -> str:
    return await _appealed_case(harness, desk)


async def _open_notice(harness: Harness, desk: Engine) -> str:
    case_id, _ = await _review_case(desk)
    r = await desk.client.post(
        f"/v1/cases/{case_id}/decision", json=PARTNER_LOST_IT, headers=harness.key(AGENT)
    )
    assert r.status_code == 200, r.text
    return await _partner_notice(desk, case_id)


async def _contested_notice(harness: Harness, desk: Engine) -> str:
    notice_id = await _open_notice(harness, desk)
    r = await desk.client.post(
        f"/v1/partner/notices/{notice_id}/contest",
        json={"reason": "Weighed at pickup"},
        headers=harness.key(PARTNER_RAPIDROUTE),
    )
    assert r.status_code in (200, 201), r.text
    return notice_id


ACTING = {
    "/v1/cases/{case_id}/decision": Acting("/v1/cases/{}/decision", AGENT, _under_review),
    "/v1/cases/{case_id}/escalate": Acting("/v1/cases/{}/escalate", AGENT, _under_review),
    "/v1/cases/{case_id}/evidence-requests": Acting(
        "/v1/cases/{}/evidence-requests", AGENT, _under_review
    ),
    "/v1/cases/{case_id}/approve": Acting("/v1/cases/{}/approve", MANAGER_2, _proposed),
    "/v1/cases/{case_id}/appeal-decision": Acting(
        "/v1/cases/{}/appeal-decision", MANAGER_2, _appealed
    ),
    "/v1/partner/notices/{notice_id}/contest": Acting(
        "/v1/partner/notices/{}/contest", PARTNER_RAPIDROUTE, _open_notice
    ),
    "/v1/partner-notices/{notice_id}/ruling": Acting(
        "/v1/partner-notices/{}/ruling", MANAGER, _contested_notice
    ),
}


def _route(path: str) -> Any:
    from shared.access import route_access

    return next(
        r
        for r in route_access(service_apps()["reconciliation"])
        if r.path == path and r.method == "POST"
    )


@pytest.mark.parametrize("template", list(ACTING))
async def test_a_route_acting_on_its_object_takes_any_value_in_any_field(
    harness: Harness, desk: Engine, template: str
) -> None:
    acting = ACTING[template]
    base = _example("reconciliation", _route(template))
    auth = {**harness.key(acting.key_env), "content-type": "application/json"}

    async def fresh() -> str:
        return await acting.make(harness, desk)

    async def send(obj: str, body: bytes) -> httpx.Response:
        path = acting.path.format(obj)
        return await _patiently(lambda: desk.client.post(path, content=body, headers=auth))

    # The documented example, as a client copies it: accepted where the route acts.
    r = await send(await fresh(), json.dumps(base).encode())
    assert 200 <= r.status_code < 300, r.text

    obj = await fresh()
    failures: list[str] = []
    acted = 0
    for leaf in _leaves(base):
        for what, classic in CLASSICS.items():
            where = f"{'.'.join(map(str, leaf)) or 'body'} = {what}"
            try:
                r = await send(obj, _with(base, leaf, classic))
            except TimeoutError:
                failures.append(f"{where}: no answer in 30 s")
                continue
            if r.status_code >= 500:
                failures.append(f"{where}: {r.status_code} {r.text[:200]}")
            elif r.status_code >= 400 and not r.headers["content-type"].startswith(PROBLEM):
                failures.append(f"{where}: {r.status_code} not problem+json")
            elif r.status_code == 409:
                failures.append(f"{where}: 409 on an object in its acting state: {r.text[:200]}")
            elif r.status_code < 300:
                acted += 1
                obj = await fresh()  # this one acted: the next value gets an object to act on
    assert not failures, "\n".join(failures)
    assert acted > 0  # the probe reached the route's acting code, not only its refusals

    # Whatever was decided, paid, reversed or debited on the way: every ledger balances.
    unbalanced = await desk.sql(
        "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0"
    )
    assert unbalanced == []
