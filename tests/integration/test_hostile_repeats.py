"""The same desk request sent again without an Idempotency-Key (a double click, a retry, two
agents at once), ten copies at once against the real stack (a reconciliation instance of its own
on real Kafka and PostgreSQL), from the hostile7 pass against `disputedesk run` (2026-12-07).

Each copy of an evidence request was a new request: ten emails asked the seller for the same
evidence, each with a later reply-by. Each copy of a task was a new open task: ten emails to the
team, and ten holds on the payout when the task blocks settlement. Now the first acts and the
copies answer 409 problem+json naming the field and the request they repeat; asking something
else, or the same again once the case has moved on, is a new request.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.events import NotificationSent
from tests.conftest import Harness
from tests.support.reconciliation import (
    T0,
    Engine,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)
from tests.support.waiting import eventually

PROBLEM = "application/problem+json"
AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
COPIES = 10
EVIDENCE_REQUESTED = "disputedesk.reconciliation.evidence_requested.v1"
TASK_OPENED = "disputedesk.reconciliation.case_task_opened.v1"


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "hostile_repeats") as eng:
        yield eng


async def _review_case(desk: Engine) -> str:
    rid = f"RET-REP-{uuid.uuid4().hex[:10].upper()}"
    filed = desk.envelope(escalation(rid, amount=249_900))
    await desk.send(
        filed,
        return_initiated(rid, partner="rapidroute", item_value=249_900),
        scan(rid, "PICKED_UP", T0, weight=1000, partner="rapidroute"),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner="rapidroute"),
        assessed(filed, "HIGH"),
    )
    case = await desk.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    return str(case["case_id"])


async def _copies(
    desk: Engine, path: str, body: dict[str, Any], *keys: dict[str, str]
) -> list[Any]:
    sends = [desk.client.post(path, json=body, headers=keys[i % len(keys)]) for i in range(COPIES)]
    return list(await asyncio.gather(*sends))


def _one_acted(responses: list[httpx.Response], won: int, field: str) -> None:
    shown = sorted((r.status_code, r.text[:200]) for r in responses)
    assert [r.status_code for r in responses].count(won) == 1, shown
    for r in responses:
        if r.status_code != won:
            assert r.status_code == 409, shown
            assert r.headers["content-type"].startswith(PROBLEM), shown
            assert r.json()["errors"][0]["field"] == field, shown


async def _published(desk: Engine, case_id: str, ce_type: str) -> int:
    return sum(1 for e in await desk.events(case_id) if e["ce_type"] == ce_type)


async def test_the_same_evidence_request_ten_times_at_once_asks_the_seller_once(
    harness: Harness, desk: Engine
) -> None:
    case_id = await _review_case(desk)
    path = f"/v1/cases/{case_id}/evidence-requests"
    body = {"checklist": ["Unboxing video", "Photo of the label"], "reason": "Show the damage"}
    rs = await _copies(desk, path, body, harness.key(AGENT), harness.key(MANAGER))
    _one_acted(rs, 200, "body.checklist")
    assert await _published(desk, case_id, EVIDENCE_REQUESTED) == 1
    # Asked once more, later: still the same unanswered request.
    r = await desk.client.post(path, json=body, headers=harness.key(AGENT))
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM), r.text
    # Something else is a new request; after it, the first one may be asked again.
    other = {"checklist": ["Photo of the box"], "reason": "Show the outer box too"}
    r = await desk.client.post(path, json=other, headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    r = await desk.client.post(path, json=body, headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    assert await _published(desk, case_id, EVIDENCE_REQUESTED) == 3


async def test_an_email_going_out_between_two_copies_is_not_a_move(
    harness: Harness, desk: Engine
) -> None:
    """hostile8: ten copies raced after a task was opened; the task's email landed on the
    timeline between the first copy and the second, which then asked the seller again (two
    "Please send evidence" emails). An email going out tells of a move; it is not one."""
    case_id = await _review_case(desk)
    path = f"/v1/cases/{case_id}/evidence-requests"
    body = {"checklist": ["Unboxing video"], "reason": "Show the damage"}
    assert (await desk.client.post(path, json=body, headers=harness.key(AGENT))).status_code == 200
    [case] = await desk.sql("SELECT return_id, version FROM cases WHERE case_id = :c", c=case_id)
    await desk.send(
        NotificationSent(
            message_id=uuid.uuid4(),
            subject_key=case["return_id"],
            case_id=case_id,
            return_id=case["return_id"],
            template="task_opened",
            case_version=case["version"],
            attempts=1,
            subject=f"[Task for warehouse] case {case_id}",
            sent_at=desk.clock.now(),
        )
    )
    await eventually(
        lambda: desk.sql(
            "SELECT 1 FROM case_timeline WHERE case_id = :c AND kind = 'EMAIL_SENT'", c=case_id
        ),
        until=bool,
        what="the email's timeline row",
    )
    r = await desk.client.post(path, json=body, headers=harness.key(AGENT))
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert await _published(desk, case_id, EVIDENCE_REQUESTED) == 1


async def test_the_same_evidence_request_after_a_note_is_asked_again(
    harness: Harness, desk: Engine
) -> None:
    """A note moves the case: asking again after it is the desk's choice (a reminder)."""
    case_id = await _review_case(desk)
    path = f"/v1/cases/{case_id}/evidence-requests"
    body = {"checklist": ["Unboxing video"], "reason": "Show the damage"}
    assert (await desk.client.post(path, json=body, headers=harness.key(AGENT))).status_code == 200
    r = await desk.client.post(
        f"/v1/cases/{case_id}/notes",
        json={"note": "Seller called: will send today"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    r = await desk.client.post(path, json=body, headers=harness.key(AGENT))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("blocks_settlement", [False, True])
async def test_the_same_task_ten_times_at_once_opens_one_task(
    harness: Harness, desk: Engine, blocks_settlement: bool
) -> None:
    case_id = await _review_case(desk)
    path = f"/v1/cases/{case_id}/tasks"
    body = {"team": "warehouse", "ask": "Weigh the parcel", "blocks_settlement": blocks_settlement}
    rs = await _copies(desk, path, body, harness.key(AGENT), harness.key(MANAGER))
    _one_acted(rs, 201, "body.ask")
    rows = await desk.sql(
        "SELECT count(*) AS n FROM case_tasks WHERE case_id = :c AND team = 'warehouse'", c=case_id
    )
    assert int(rows[0]["n"]) == 1
    assert await _published(desk, case_id, TASK_OPENED) == 1
    holds = await desk.sql("SELECT desk_holds_open FROM cases WHERE case_id = :c", c=case_id)
    assert holds[0]["desk_holds_open"] == (1 if blocks_settlement else 0)
    # Another ask of the same team, or the same ask of another team, is a new task.
    for other in (
        {"team": "warehouse", "ask": "Photograph the seal"},
        {"team": "logistics_partner_ops", "ask": "Weigh the parcel"},
    ):
        r = await desk.client.post(path, json=other, headers=harness.key(AGENT))
        assert r.status_code == 201, r.text


async def test_the_same_task_again_once_the_first_is_done(harness: Harness, desk: Engine) -> None:
    case_id = await _review_case(desk)
    path = f"/v1/cases/{case_id}/tasks"
    body = {"team": "warehouse", "ask": "Weigh the parcel"}
    r = await desk.client.post(path, json=body, headers=harness.key(AGENT))
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    r = await desk.client.post(
        f"/v1/tasks/{task_id}/complete",
        json={"resolution": "Weighed: 1.0 kg"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    r = await desk.client.post(path, json=body, headers=harness.key(AGENT))
    assert r.status_code == 201, r.text
