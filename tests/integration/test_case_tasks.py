"""Cross-team tasks on the real stack: settlement held by blocking tasks (finance above a
threshold, the warehouse for a wrong item) and released by the last one; an overdue task
alerting management; per-team figures; the escalation report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.rendering import Rendered, india_time, render
from services.notifications.settings import NotificationsSettings
from services.reconciliation.tasks import repository as task_repository
from services.reconciliation.tasks import service as task_service
from services.reconciliation.tasks.errors import TaskNotOpen
from shared.events import (
    AppealFiled,
    CaseDecided,
    CaseEventBase,
    CaseSettled,
    CaseTaskOverdue,
    CaseUpdated,
)
from shared.money import rupees as inr
from shared.wakeups import TASKS_CHANNEL
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.keys import add_key
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
from tests.support.waiting import eventually

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"
FINANCE = "DISPUTEDESK_KEY_FINANCE"


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "tasks", task_poll_interval_s=0.1) as eng:
        # Every case of this module is decided under a version whose holds need confirming.
        await adopt_holds(eng, harness)
        yield eng


async def wrong_item_case(eng: Engine, amount: int = 100_000) -> dict[str, Any]:
    """A wrong item although the partner's QC passed at pickup: decided for the seller."""
    rid = uid("RET-TASK")
    filed = eng.envelope(escalation(rid, claim="WRONG_ITEM", amount=amount))
    await eng.send(
        filed,
        return_initiated(rid, partner="swiftship", item_value=amount, qc_required=True),
        scan(rid, "QC_PASSED", T0 - timedelta(minutes=10), weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000),
        scan(rid, "PICKED_UP", T0, weight=1000),
    )
    await eventually(
        lambda: eng.sql("SELECT count(*) AS n FROM shipment_events WHERE return_id = :r", r=rid),
        until=lambda rows: rows[0]["n"] == 3,
        what="scans stored",
    )
    await eng.send(assessed(filed, "LOW"))
    return await eng.wait_case(rid, lambda c: c["state"] in ("DECIDED", "CLOSED"), what=rid)


async def adopt_holds(eng: Engine, harness: Harness) -> None:
    version = f"sop-holds-{uuid.uuid4().hex[:6]}"
    changes = {
        "settlement_holds": {
            "finance_confirmation_above_paise": 50_000,
            "warehouse_receipt_claim_types": ["WRONG_ITEM"],
        }
    }
    r = await eng.client.post(
        "/v1/policies",
        json={"version": version, "changes": changes, "reason": "Confirm before paying"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 201, r.text
    effective = (eng.clock.now() + timedelta(minutes=1)).isoformat()
    r = await eng.client.post(
        f"/v1/policies/{version}/propose",
        json={"effective_at": effective, "reason": "Finance asked for it"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text
    r = await eng.client.post(
        f"/v1/policies/{version}/approve", json={}, headers=harness.key(MANAGER_2)
    )
    assert r.status_code == 200, r.text
    eng.clock.advance(timedelta(minutes=2))


async def test_blocking_tasks_hold_settlement_until_the_last_is_done(
    desk: Engine, harness: Harness
) -> None:
    case = await wrong_item_case(desk)
    cid = case["case_id"]
    assert case["state"] == "DECIDED" and case["decision"]["payout"] == 100_000
    r = await desk.client.get(f"/v1/cases/{cid}/tasks", headers=harness.key(AGENT))
    tasks = {t["team"]: t for t in r.json()["items"]}
    assert set(tasks) == {"finance", "warehouse"}
    assert all(t["blocks_settlement"] and t["status"] == "OPEN" for t in tasks.values())
    # The list pages like every other (docs/api.md, "Paging"); both tasks share created_at, the
    # task id breaks the tie.
    r = await desk.client.get(
        f"/v1/cases/{cid}/tasks", params={"limit": 1}, headers=harness.key(AGENT)
    )
    first = r.json()
    assert len(first["items"]) == 1 and first["next"] and 'rel="next"' in r.headers["link"]
    r = await desk.client.get(
        f"/v1/cases/{cid}/tasks",
        params={"limit": 1, "cursor": first["next"]},
        headers=harness.key(AGENT),
    )
    second = r.json()
    assert second["next"] is None and "link" not in r.headers
    assert {t["team"] for t in first["items"] + second["items"]} == {"finance", "warehouse"}
    # The decision email names both checks and the date the later one is due, in seller terms.
    mail = await seller_mail(desk, cid, "decision")
    due = max(datetime.fromisoformat(t["due_at"]) for t in tasks.values())
    assert "our finance team confirms the payment" in mail.text, mail.text
    assert "our returns warehouse confirms what came back" in mail.text, mail.text
    assert f"We expect this by {india_time(due)}" in mail.text, mail.text
    assert "as soon as the payment is made" not in mail.text
    r = await desk.client.get("/v1/tasks", params={"limit": 1}, headers=harness.key(AGENT))
    page = r.json()
    r = await desk.client.get(
        "/v1/tasks", params={"limit": 1, "cursor": page["next"]}, headers=harness.key(AGENT)
    )
    assert r.status_code == 200 and r.json()["items"][0]["task_id"] != page["items"][0]["task_id"]
    no_money = await desk.sql("SELECT count(*) AS n FROM ledger_entries WHERE case_id = :c", c=cid)
    assert no_money[0]["n"] == 0

    # A blocking task is confirmed, never cancelled; the warehouse's confirmation alone does
    # not release the money.
    finance_task, warehouse_task = tasks["finance"]["task_id"], tasks["warehouse"]["task_id"]
    r = await desk.client.post(
        f"/v1/tasks/{warehouse_task}/cancel", json={"resolution": "no"}, headers=harness.key(AGENT)
    )
    assert r.status_code == 409
    r = await desk.client.post(
        f"/v1/tasks/{warehouse_task}/comments",
        json={"body": "Box arrived, it is a phone case not a phone"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201
    # Each hold is its own duty: finance confirms the payout, never the warehouse's receipt
    # too, or one key would release the money past both checks.
    r = await desk.client.post(
        f"/v1/tasks/{warehouse_task}/complete",
        json={"resolution": "Received"},
        headers=harness.key(FINANCE),
    )
    assert r.status_code == 403 and "finance tasks only" in r.json()["detail"], r.text
    r = await desk.client.post(
        f"/v1/tasks/{warehouse_task}/complete",
        json={"resolution": "Received: wrong item confirmed"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200 and r.json()["status"] == "DONE"
    assert (await desk.case(case["return_id"]))["state"] == "DECIDED"  # type: ignore[index]

    # Finance confirms the payout (not an agent); then the case settles and closes.
    r = await desk.client.post(
        f"/v1/tasks/{finance_task}/complete", json={"resolution": "ok"}, headers=harness.key(AGENT)
    )
    assert r.status_code == 403
    r = await desk.client.post(
        f"/v1/tasks/{finance_task}/complete",
        json={"resolution": "Payout confirmed"},
        headers=harness.key(FINANCE),
    )
    assert r.status_code == 200, r.text
    closed = await desk.case(case["return_id"])
    assert closed is not None and closed["state"] == "CLOSED" and closed["payout"] == 100_000
    paid = await desk.sql(
        "SELECT -sum(amount) AS paid FROM ledger_entries WHERE case_id = :c "
        "AND account_type = 'seller_payable'",
        c=cid,
    )
    assert paid[0]["paid"] == 100_000


async def test_overdue_task_alerts_management_and_metrics_count_it(
    desk: Engine, harness: Harness
) -> None:
    case = await wrong_item_case(desk)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/tasks",
        json={"team": "technology", "ask": "Why did the scan feed lag by a day?", "owner": "dev"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["due_at"] == (desk.clock.now() + timedelta(hours=48)).isoformat()
    r = await desk.client.post(
        f"/v1/cases/{cid}/tasks",
        json={"team": "brand_management", "ask": "Is this seller's catalogue mislabelled?"},
        headers=harness.key(AGENT),
    )
    brand_task = r.json()["task_id"]
    desk.clock.advance(timedelta(hours=3))
    r = await desk.client.post(
        f"/v1/tasks/{brand_task}/complete",
        json={"resolution": "Labels fixed"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200

    desk.clock.advance(timedelta(hours=46))
    alerted = await eventually(
        lambda: desk.sql(
            "SELECT overdue_alerted_at FROM case_tasks WHERE task_id = :t", t=task["task_id"]
        ),
        until=lambda rows: rows[0]["overdue_alerted_at"] is not None,
        what="overdue alert",
    )
    assert alerted
    notes = await desk.sql(
        "SELECT reason FROM case_timeline WHERE case_id = :c AND kind = 'TASK_OVERDUE'", c=cid
    )
    mine = [n for n in notes if n["reason"].startswith("The technology task is overdue")]
    assert len(mine) == 1 and "Management is alerted" in mine[0]["reason"]

    exposition = (await desk.client.get("/metrics")).text
    assert 'disputedesk_tasks_overdue_total{team="technology"}' in exposition
    assert 'disputedesk_task_hours_to_close_count{team="brand_management"}' in exposition
    r = await desk.client.get("/v1/tasks/metrics", headers=harness.key(FINANCE))
    teams = {t["team"]: t for t in r.json()["teams"]}
    assert teams["technology"]["overdue"] >= 1 and teams["technology"]["open"] >= 1
    assert teams["brand_management"]["done"] >= 1
    assert teams["brand_management"]["median_hours_to_close"] == 3.0


async def test_opening_or_moving_a_task_wakes_the_overdue_loop(
    desk: Engine, harness: Harness
) -> None:
    """The overdue loop sleeps until the next task falls due; a task opened meanwhile may fall
    due sooner, and the `case_tasks` table's NOTIFY tells every replica's loop."""
    wakeups = desk.app.state.runtime.wakeups
    await asyncio.wait_for(wakeups.connected.wait(), 30)
    woken = wakeups.event(TASKS_CHANNEL)
    case = await wrong_item_case(desk)
    r = await desk.client.post(
        f"/v1/cases/{case['case_id']}/tasks",
        json={"team": "warehouse", "ask": "Was the parcel weighed on arrival?"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    await asyncio.wait_for(woken.wait(), 30)


async def test_escalation_to_management_produces_the_case_report(
    desk: Engine, harness: Harness
) -> None:
    case = await wrong_item_case(desk)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/escalate-to-management",
        json={"reason": "Third wrong item from this hub this week"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    assert r.json()["team"] == "management"
    r = await desk.client.get(f"/v1/cases/{cid}/report", headers=harness.key(MANAGER))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    for heading in ("Facts", "Scans", "Fraud assessments", "Timeline", "Ledger", "Tasks"):
        assert f"<h2>{heading}</h2>" in page
    assert cid in page and "Third wrong item from this hub this week" in page
    # The module's holds keep this case's money waiting: the report says so.
    assert "QC_PASSED" in page and "(holds settlement)" in page


async def test_a_management_task_is_closed_by_a_manager_not_by_whoever_escalated(
    desk: Engine, harness: Harness
) -> None:
    """The agent who escalated a case to management does not answer for management: completing
    or cancelling the management task takes an ops_manager (403 for an agent or finance), and
    while it is open the case is not escalated again (409 naming the task)."""
    case = await wrong_item_case(desk)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/escalate-to-management",
        json={"reason": "Repeat offender"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    again = await desk.client.post(
        f"/v1/cases/{cid}/escalate-to-management",
        json={"reason": "Repeat offender"},
        headers=harness.key(AGENT),
    )
    assert again.status_code == 409 and task_id in again.json()["detail"], again.text
    for action in ("complete", "cancel"):
        for key in (AGENT, FINANCE):
            r = await desk.client.post(
                f"/v1/tasks/{task_id}/{action}",
                json={"resolution": "Handled it myself"},
                headers=harness.key(key),
            )
            assert r.status_code == 403, (action, key, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    r = await desk.client.post(
        f"/v1/tasks/{task_id}/complete",
        json={"resolution": "Hub warned; seller's claims reviewed"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200 and r.json()["status"] == "DONE", r.text
    # Closed: a new escalation opens a new task.
    r = await desk.client.post(
        f"/v1/cases/{cid}/escalate-to-management",
        json={"reason": "It happened again"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201 and r.json()["task_id"] != task_id, r.text


async def test_a_key_bound_to_a_team_works_its_teams_tasks_and_nothing_else(
    desk: Engine, harness: Harness
) -> None:
    """A person of the warehouse holds an agent key bound to the warehouse team: its task list
    is the warehouse's, it comments on and completes the warehouse's task, and it reads the
    case; another team's task, another team's list and the desk's own case work answer 403
    problem+json. A team the product does not know in the keyring ends the key (401). Before,
    a key had no team: any agent acted on every team's task and on every case."""
    case = await wrong_item_case(desk)
    cid = case["case_id"]
    r = await desk.client.get(f"/v1/cases/{cid}/tasks", headers=harness.key(AGENT))
    tasks = {t["team"]: t["task_id"] for t in r.json()["items"]}
    assert set(tasks) == {"finance", "warehouse"}
    warehouse = add_key(harness.env, uid("warehouse.anil"), ["ops_agent"], team="warehouse")
    brand = add_key(harness.env, uid("brand.lata"), ["ops_agent"], team="brand_management")

    def refused(r: Any, what: str) -> None:
        assert r.status_code == 403, (what, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), what

    r = await desk.client.get("/v1/tasks", params={"status": "OPEN"}, headers=warehouse)
    assert r.status_code == 200, r.text
    assert r.json()["items"] and {t["team"] for t in r.json()["items"]} == {"warehouse"}
    refused(
        await desk.client.get("/v1/tasks", params={"team": "finance"}, headers=warehouse),
        "another team's list",
    )
    for action, body in (("comments", {"body": "seen"}), ("complete", {"resolution": "ok"})):
        refused(
            await desk.client.post(
                f"/v1/tasks/{tasks['warehouse']}/{action}", json=body, headers=brand
            ),
            f"brand on the warehouse's task: {action}",
        )
    refused(
        await desk.client.post(
            f"/v1/tasks/{tasks['finance']}/comments", json={"body": "x"}, headers=warehouse
        ),
        "warehouse on finance's task",
    )
    for path, body in (
        (f"/v1/cases/{cid}/notes", {"note": "I looked at it"}),
        (f"/v1/cases/{cid}/tasks", {"team": "warehouse", "ask": "Check again"}),
        (f"/v1/cases/{cid}/escalate-to-management", {"reason": "Odd"}),
    ):
        refused(await desk.client.post(path, json=body, headers=warehouse), path)
    r = await desk.client.get(f"/v1/cases/{cid}", headers=warehouse)
    assert r.status_code == 200, r.text
    r = await desk.client.post(
        f"/v1/tasks/{tasks['warehouse']}/comments",
        json={"body": "Box opened: a phone case, not a phone"},
        headers=warehouse,
    )
    assert r.status_code == 201, r.text
    r = await desk.client.post(
        f"/v1/tasks/{tasks['warehouse']}/complete",
        json={"resolution": "Received: wrong item confirmed"},
        headers=warehouse,
    )
    assert r.status_code == 200 and r.json()["status"] == "DONE", r.text
    # Nothing the refusals touched changed: the case still waits for finance only.
    r = await desk.client.get(f"/v1/cases/{cid}/tasks", headers=harness.key(AGENT))
    statuses = {t["team"]: t["status"] for t in r.json()["items"]}
    assert statuses == {"finance": "OPEN", "warehouse": "DONE"}, statuses
    mistyped = add_key(harness.env, uid("ware.house"), ["ops_agent"], team="Warehouse ")
    r = await desk.client.get("/v1/tasks", headers=mistyped)
    assert r.status_code == 401, r.text


async def test_a_key_bound_to_a_team_reads_only_its_teams_cases_tasks_and_figures(
    desk: Engine, harness: Harness
) -> None:
    """A team's cases are those the desk asked it something on. A person of brand management
    reads none of a wrong-item case's story until the desk asks brand management something on
    it: the case, its tasks and its report answer 404 like an unknown case, the queue and its
    counts leave it out, whatever the filters name. The warehouse's person reads the case, its
    own team's task of it (not finance's) and its own team's figures. Before, a key bound to a
    team read every case, every team's task and every team's figures."""
    case = await wrong_item_case(desk)
    cid, rid = case["case_id"], case["return_id"]
    warehouse = add_key(harness.env, uid("warehouse.ravi"), ["ops_agent"], team="warehouse")
    brand = add_key(harness.env, uid("brand.meera"), ["ops_agent"], team="brand_management")

    for path in (f"/v1/cases/{cid}", f"/v1/cases/{cid}/tasks", f"/v1/cases/{cid}/report"):
        r = await desk.client.get(path, headers=brand)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), path
        r = await desk.client.get(path, headers=warehouse)
        assert r.status_code == 200, (path, r.text)
    for params in ({"return_id": rid}, {"return_id": rid, "state": case["state"]}):
        r = await desk.client.get("/v1/cases", params=params, headers=brand)
        assert r.status_code == 200 and r.json()["items"] == [], r.text
        r = await desk.client.get("/v1/cases", params=params, headers=warehouse)
        assert [c["case_id"] for c in r.json()["items"]] == [cid], r.text

    r = await desk.client.get(f"/v1/cases/{cid}/tasks", headers=warehouse)
    assert {t["team"] for t in r.json()["items"]} == {"warehouse"}, r.text
    r = await desk.client.get("/v1/tasks/metrics", headers=warehouse)
    assert [row["team"] for row in r.json()["teams"]] == ["warehouse"], r.text
    r = await desk.client.get("/v1/tasks/metrics", headers=harness.key(AGENT))
    assert len(r.json()["teams"]) == 6, r.text

    async def counted(headers: dict[str, str]) -> int:
        r = await desk.client.get("/v1/cases/counts", headers=headers)
        assert r.status_code == 200, r.text
        return sum(r.json()["by_state"].values())

    teams_cases = """SELECT count(DISTINCT case_id) AS n FROM case_tasks WHERE team = :t"""
    brand_before = await counted(brand)
    assert brand_before == (await desk.sql(teams_cases, t="brand_management"))[0]["n"]
    assert await counted(warehouse) == (await desk.sql(teams_cases, t="warehouse"))[0]["n"]
    assert await counted(harness.key(AGENT)) > brand_before

    # Asked something on the case, brand management reads it.
    r = await desk.client.post(
        f"/v1/cases/{cid}/tasks",
        json={"team": "brand_management", "ask": "Is this the brand's packaging?"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    r = await desk.client.get(f"/v1/cases/{cid}", headers=brand)
    assert r.status_code == 200 and r.json()["case_id"] == cid, r.text
    assert await counted(brand) == brand_before + 1


async def test_blocking_tasks_the_desk_opened_before_the_decision_hold_its_payment(
    desk: Engine, harness: Harness
) -> None:
    """₹450 (L11) needs no confirmation under the module's holds, so it would be paid at once;
    the desk asked brand management and logistics partner ops to look first, blocking
    settlement, before the decision came. The decision waits for both (it was once paid
    regardless), its email says a team confirms it and by when; a second close of a task done
    meanwhile is refused and counts nothing; the last task done pays."""
    rid = uid("RET-DESK-HOLD")
    filed = desk.envelope(escalation(rid, claim="DAMAGED", amount=90_000))
    await desk.send(
        filed,
        return_initiated(rid, partner="swiftship", item_value=90_000),
        scan(rid, "PICKED_UP", T0, weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000),
    )
    cid = (await desk.wait_case(rid, lambda c: True, what="case opened"))["case_id"]
    tasks = []
    for team in ("brand_management", "logistics_partner_ops"):
        r = await desk.client.post(
            f"/v1/cases/{cid}/tasks",
            json={
                "team": team,
                "ask": "Look at this before anything is paid",
                "blocks_settlement": True,
            },
            headers=harness.key(AGENT),
        )
        assert r.status_code == 201, r.text
        tasks.append(r.json())
    assert await desk_holds_open(desk, cid) == 2

    await desk.send(assessed(filed, "LOW"))
    decided = await desk.wait_case(rid, lambda c: c["decision"] is not None, what="decision")
    assert decided["state"] == "DECIDED", decided["state"]
    assert (decided["decision"]["rule_id"], decided["decision"]["payout"]) == ("L11", 45_000)
    no_money = await desk.sql("SELECT count(*) AS n FROM ledger_entries WHERE case_id = :c", c=cid)
    assert no_money[0]["n"] == 0
    mail = await seller_mail(desk, cid, "decision")
    # The desk's own checks, in seller terms: not "a team at the marketplace confirms it", and
    # not the policy's routine check on every payout of a size.
    assert "our brand team checks the item" in mail.text, mail.text
    assert "we confirm the return's journey with the logistics partner" in mail.text, mail.text
    assert "routine check" not in mail.text
    due = max(datetime.fromisoformat(t["due_at"]) for t in tasks)
    assert f"We expect this by {india_time(due)}" in mail.text, mail.text

    first = UUID(tasks[0]["task_id"])
    async with desk.sessionmaker() as late, late.begin():
        # This request read the task while it was open and still holds it (the session's copy
        # stays while referenced); another request completes the task meanwhile.
        seen = await task_repository.get(late, first)
        assert seen is not None and seen.status == "OPEN"
        r = await desk.client.post(
            f"/v1/tasks/{first}/complete", json={"resolution": "Fine"}, headers=harness.key(AGENT)
        )
        assert r.status_code == 200, r.text
        with pytest.raises(TaskNotOpen):
            await task_service.close(
                late,
                task_id=first,
                done=True,
                resolution="Fine again",
                actor="desk",
                is_finance=False,
                is_desk=True,
                is_manager=False,
                now=desk.clock.now(),
            )
        assert seen.status == "DONE"  # the locked read refreshed the session's copy
    assert await desk_holds_open(desk, cid) == 1
    assert (await desk.case(rid) or {})["state"] == "DECIDED"

    r = await desk.client.post(
        f"/v1/tasks/{tasks[1]['task_id']}/complete",
        json={"resolution": "Carrier's records agree"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    closed = await desk.wait_case(rid, lambda c: c["state"] == "CLOSED", what="settled")
    assert closed["payout"] == 45_000
    assert await desk_holds_open(desk, cid) == 0


async def test_a_held_payment_past_its_date_is_apologised_for_once_with_a_new_date_it_keeps(
    desk: Engine, harness: Harness
) -> None:
    """Finance and the warehouse both miss the date the decision email gave: management is
    alerted for each task, the seller hears once, with an apology, both checks and a new date,
    which the tasks are now held to; when that date passes too, management is alerted again and
    the seller gets one more apology with a date further out; once paid, nothing more."""
    case = await wrong_item_case(desk)
    cid = case["case_id"]
    promised = await _held_tasks(desk, cid)
    assert set(promised) == {"finance", "warehouse"}
    desk.clock.advance(timedelta(hours=25))
    [first] = await _payment_apologies(desk, cid, count=1)
    await _all_alerted(desk, cid)
    assert first.state.value == "DECIDED" and first.next_step_by is not None
    assert first.next_step_by > desk.clock.now()
    assert {w.team for w in first.settlement_waits} == {"finance", "warehouse"}
    assert set((await _held_tasks(desk, cid)).values()) == {first.next_step_by}
    # Both tasks missed a date and are still open: late for their teams, although their new
    # date is ahead.
    async with desk.sessionmaker() as session:
        rows = await task_repository.of_case(session, cid)
    teams = {t["team"]: t for t in task_service.team_metrics(rows, desk.clock.now())}
    assert (teams["finance"]["overdue"], teams["warehouse"]["overdue"]) == (1, 1), teams
    # Each task's first alert says so (no alert before it), so notifications keeps the key a
    # task's one alert always had.
    overdue = await _task_overdue_events(desk, cid, count=2)
    assert [e.alerted_before for e in overdue] == [None, None]
    mail = await seller_mail(desk, cid, "payment_delayed", event=first)
    assert "We are sorry" in mail.text and inr(100_000) in mail.text, mail.text
    assert "our finance team confirms the payment" in mail.text, mail.text
    assert "our returns warehouse confirms what came back" in mail.text, mail.text
    assert f"we now expect this by {india_time(first.next_step_by)}" in mail.text, mail.text

    desk.clock.advance(first.next_step_by - desk.clock.now() + timedelta(minutes=1))
    [_, second] = await _payment_apologies(desk, cid, count=2)
    assert second.next_step_by is not None
    # Further out than the first: as long again as the payment has waited.
    assert second.next_step_by - second.occurred_at > first.next_step_by - first.occurred_at
    # Management was alerted again for each task, for the new date it missed.
    await _all_alerted(desk, cid)
    again = await desk.sql(
        "SELECT overdue_alerted_at AS at FROM case_tasks WHERE case_id = :c", c=cid
    )
    assert all(r["at"] >= first.next_step_by for r in again), again
    overdue = await _task_overdue_events(desk, cid, count=4)
    assert sorted(e.alerted_before is not None for e in overdue) == [False, False, True, True]

    for task_id in await _open_task_ids(desk, cid):
        key = FINANCE if await _team_of(desk, task_id) == "finance" else AGENT
        r = await desk.client.post(
            f"/v1/tasks/{task_id}/complete", json={"resolution": "Done"}, headers=harness.key(key)
        )
        assert r.status_code == 200, r.text
    closed = await desk.wait_case(case["return_id"], lambda c: c["state"] == "CLOSED", what="paid")
    assert closed["payout"] == 100_000


async def test_a_payment_date_held_by_a_check_done_first_is_still_kept(
    desk: Engine, harness: Harness
) -> None:
    """A wrong item of ₹1,000: finance and the warehouse confirm it (24 h), and the desk asked
    brand management to look first (72 h), so the seller is told the 72 h date. Finance and the
    warehouse miss theirs (management alerted, no apology: the seller's date holds), brand
    management is done early; when the seller's date passes with the payment still waiting,
    the seller hears, once, with a new date (the date was once no task's, so nobody noticed)."""
    rid = uid("RET-TASK-HELD")
    filed = desk.envelope(escalation(rid, claim="WRONG_ITEM", amount=100_000))
    await desk.send(
        filed,
        return_initiated(rid, partner="swiftship", item_value=100_000, qc_required=True),
        scan(rid, "QC_PASSED", T0 - timedelta(minutes=10), weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000),
        scan(rid, "PICKED_UP", T0, weight=1000),
    )
    cid = (await desk.wait_case(rid, lambda c: True, what="case opened"))["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/tasks",
        json={
            "team": "brand_management",
            "ask": "Is the listing right?",
            "blocks_settlement": True,
        },
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    brand = r.json()
    await desk.send(assessed(filed, "LOW"))
    await desk.wait_case(rid, lambda c: c["state"] == "DECIDED", what="decided, held")
    held = await _held_tasks(desk, cid)
    assert set(held) == {"finance", "warehouse", "brand_management"}
    promised = held["brand_management"]
    assert held["finance"] < promised and held["warehouse"] < promised

    desk.clock.advance(held["finance"] - desk.clock.now() + timedelta(minutes=1))
    await _all_alerted(desk, cid)
    r = await desk.client.post(
        f"/v1/tasks/{brand['task_id']}/complete",
        json={"resolution": "Listing is right"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    assert not await _case_updates_now(desk, cid, "SETTLEMENT_OVERDUE")

    desk.clock.advance(promised - desk.clock.now() + timedelta(minutes=1))
    [apology] = await _payment_apologies(desk, cid, count=1)
    assert apology.next_step_by is not None and apology.next_step_by > promised
    assert {w.team for w in apology.settlement_waits} == {"finance", "warehouse"}
    assert set((await _held_tasks(desk, cid)).values()) >= {apology.next_step_by}


async def test_a_second_filing_while_the_payment_waits_is_told_it_waits_and_until_when(
    desk: Engine, harness: Harness
) -> None:
    """The case is decided but finance and the warehouse hold its payment; the seller files
    again about the return (E2b): the answer says the payment has not moved yet, who checks
    what, and the date the seller was given, not only "decided"."""
    case = await wrong_item_case(desk)
    cid, rid = case["case_id"], case["return_id"]
    due = max((await _held_tasks(desk, cid)).values())
    await desk.send(escalation(rid, claim="WRONG_ITEM", amount=100_000))

    [duplicate] = await _case_updates(desk, cid, "DUPLICATE_CLAIM_REJECTED", count=1)
    assert {w.team for w in duplicate.settlement_waits} == {"finance", "warehouse"}
    mail = await seller_mail(desk, cid, "duplicate_filing", event=duplicate)
    assert "it is decided. Its payment has not been made yet." in mail.text, mail.text
    assert "our finance team confirms the payment" in mail.text, mail.text
    assert f"We expect this by {india_time(due)}" in mail.text, mail.text


async def test_an_overdue_task_that_holds_no_payment_tells_the_seller_nothing(
    desk: Engine, harness: Harness
) -> None:
    """A paid case (₹450, L11, under the module's holds' thresholds) with a task for another
    team: its passing due time alerts management only; the seller was promised nothing."""
    rid = uid("RET-NO-HOLD")
    filed = desk.envelope(escalation(rid, claim="DAMAGED", amount=90_000))
    await desk.send(
        filed,
        return_initiated(rid, partner="swiftship", item_value=90_000),
        scan(rid, "PICKED_UP", T0, weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000),
        assessed(filed, "LOW"),
    )
    cid = (await desk.wait_case(rid, lambda c: c["state"] == "CLOSED", what="paid"))["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/tasks",
        json={"team": "technology", "ask": "Why did the scan lag?"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    desk.clock.advance(timedelta(hours=49))
    await _all_alerted(desk, cid)
    assert await _payment_apologies(desk, cid, count=0) == []


async def _held_tasks(eng: Engine, case_id: str) -> dict[str, datetime]:
    rows = await eng.sql(
        "SELECT team, due_at FROM case_tasks WHERE case_id = :c AND blocks_settlement", c=case_id
    )
    return {r["team"]: r["due_at"] for r in rows}


async def _open_task_ids(eng: Engine, case_id: str) -> list[str]:
    rows = await eng.sql(
        "SELECT task_id FROM case_tasks WHERE case_id = :c AND status = 'OPEN'", c=case_id
    )
    return [str(r["task_id"]) for r in rows]


async def _team_of(eng: Engine, task_id: str) -> str:
    rows = await eng.sql("SELECT team FROM case_tasks WHERE task_id = :t", t=task_id)
    return str(rows[0]["team"])


async def _all_alerted(eng: Engine, case_id: str) -> None:
    """Every open task of the case due by now has had its overdue alert."""
    await eventually(
        lambda: eng.sql(
            "SELECT count(*) AS n FROM case_tasks WHERE case_id = :c AND status = 'OPEN' "
            "AND due_at <= :now AND (overdue_alerted_at IS NULL OR overdue_alerted_at < due_at)",
            c=case_id,
            now=eng.clock.now(),
        ),
        until=lambda rows: rows[0]["n"] == 0,
        what="overdue alerts",
    )


async def _payment_apologies(eng: Engine, case_id: str, *, count: int) -> list[CaseUpdated]:
    """The case's SETTLEMENT_OVERDUE events once there are `count` of them."""
    return await _case_updates(eng, case_id, "SETTLEMENT_OVERDUE", count=count)


async def _case_updates_now(eng: Engine, case_id: str, change: str) -> list[dict[str, Any]]:
    return [
        e
        for e in await eng.events(case_id)
        if e["ce_type"].split(".")[2] == "case_updated" and e["payload"]["change"] == change
    ]


async def _case_updates(eng: Engine, case_id: str, change: str, *, count: int) -> list[CaseUpdated]:
    """The case's `CaseUpdated` events of `change`, once there are `count` of them."""

    async def probe() -> list[CaseUpdated]:
        return [
            CaseUpdated.model_validate(e["payload"])
            for e in await eng.events(case_id)
            if e["ce_type"].split(".")[2] == "case_updated" and e["payload"]["change"] == change
        ]

    return await eventually(probe, until=lambda found: len(found) >= count, what=change)


async def _task_overdue_events(eng: Engine, case_id: str, *, count: int) -> list[CaseTaskOverdue]:
    """The case's `CaseTaskOverdue` events once there are `count` of them."""

    async def probe() -> list[CaseTaskOverdue]:
        return [
            CaseTaskOverdue.model_validate(e["payload"])
            for e in await eng.events(case_id)
            if e["ce_type"].split(".")[2] == "case_task_overdue"
        ]

    return await eventually(probe, until=lambda found: len(found) >= count, what="overdue alerts")


async def desk_holds_open(eng: Engine, case_id: str) -> int:
    rows = await eng.sql("SELECT desk_holds_open AS n FROM cases WHERE case_id = :c", c=case_id)
    return int(rows[0]["n"])


async def test_a_held_settlement_after_an_overturned_appeal_says_what_it_replaces(
    desk: Engine, harness: Harness
) -> None:
    """₹450 paid (L11, under the finance threshold), then raised to ₹900 on appeal, which
    finance must confirm: the ₹450 is reversed at once, the ₹900 posted days later when the
    task is done. The settlement email then still tells the seller the account gains ₹450."""
    rid = uid("RET-HELD-APPEAL")
    filed = desk.envelope(escalation(rid, claim="DAMAGED", amount=90_000))
    await desk.send(
        filed,
        return_initiated(rid, partner="swiftship", item_value=90_000),
        scan(rid, "PICKED_UP", T0, weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000),
        assessed(filed, "LOW"),
    )
    first = await desk.wait_case(rid, lambda c: c["state"] == "CLOSED", what="first decision")
    cid = first["case_id"]
    assert (first["decision"]["rule_id"], first["payout"]) == ("L11", 45_000)

    await desk.send(appeal(filed.payload, desk.clock.now()))  # type: ignore[arg-type]
    await desk.wait_case(rid, lambda c: c["state"] == "APPEALED", what="appeal")
    r = await desk.client.post(
        f"/v1/cases/{cid}/appeal-decision",
        json={
            "overturn": True,
            "reason": "The hub photographed the crack before handover",
            "liable_party": "PARTNER",
            "payout_pct": 100,
        },
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "DECIDED"  # finance confirms a payout above ₹500 first
    # The ₹450 is reversed and the ₹900 not yet posted: the case says so, not "₹450 paid".
    assert (r.json()["payout"], r.json()["payout_pending"]) == (0, 90_000)
    r = await desk.client.get(f"/v1/cases/{cid}/tasks", headers=harness.key(AGENT))
    [task] = [t for t in r.json()["items"] if t["status"] == "OPEN"]
    assert task["team"] == "finance" and task["blocks_settlement"]

    await desk.advance(timedelta(days=2))
    r = await desk.client.post(
        f"/v1/tasks/{task['task_id']}/complete",
        json={"resolution": "Payout confirmed"},
        headers=harness.key(FINANCE),
    )
    assert r.status_code == 200, r.text
    closed = await desk.wait_case(rid, lambda c: c["state"] == "CLOSED", what="settled")
    assert closed["payout"] == 90_000
    r = await desk.client.get(f"/v1/cases/{cid}", headers=harness.key(AGENT))
    assert (r.json()["payout"], r.json()["payout_pending"]) == (90_000, None)

    r = await desk.client.get(f"/v1/ledger/cases/{cid}", headers=harness.key(FINANCE))
    moves = [
        -sum(line["amount"] for line in t["lines"] if line["account"].startswith("seller_payable"))
        for t in r.json()["transactions"]
    ]
    assert moves == [45_000, -45_000, 90_000]

    events = [e for e in await desk.events(cid) if e["ce_type"].split(".")[2] in _MONEY]
    decided = CaseDecided.model_validate(events[-2]["payload"])
    settled = CaseSettled.model_validate(events[-1]["payload"])
    assert (decided.decision and decided.decision.payout, decided.paid_before) == (90_000, 45_000)
    assert (settled.decision and settled.decision.payout, settled.paid_before) == (90_000, 45_000)
    # The seller's settlement email, composed from that event as notifications composes it.
    [draft] = compose_case_event(
        settled, _MAIL, now=desk.clock.now(), seller_address="seller@example.com"
    ).drafts
    assert draft.template == "settlement"
    mail = render(draft.template, draft.context)
    assert f"replaces the {inr(45_000)}" in mail.text, mail.text
    assert f"your account gains {inr(45_000)}" in mail.text, mail.text


async def test_a_dismissed_appeal_of_a_decision_awaiting_its_hold_still_pays_it(
    desk: Engine, harness: Harness
) -> None:
    """The seller appeals while the decision's payment waits for finance and the warehouse;
    the appeal is dismissed, so the decision stands: its payment still waits for the teams and
    is made when they confirm (it was once closed unpaid, its tasks then settling nothing)."""
    case = await wrong_item_case(desk)
    cid, rid = case["case_id"], case["return_id"]
    assert case["state"] == "DECIDED" and case["decision"]["payout"] == 100_000
    await desk.send(
        AppealFiled(
            escalation_id=case["primary_escalation_id"],
            return_id=rid,
            seller_id=case["seller_id"],
            reason="Pay the whole claim, not only the item.",
            filed_at=desk.clock.now(),
        )
    )
    await desk.wait_case(rid, lambda c: c["state"] == "APPEALED", what="appeal")
    r = await desk.client.post(
        f"/v1/cases/{cid}/appeal-decision",
        json={"overturn": False, "reason": "The claim was the item's value"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "DECIDED"  # the payment still waits for the teams

    r = await desk.client.get(f"/v1/cases/{cid}/tasks", headers=harness.key(AGENT))
    open_tasks = [t for t in r.json()["items"] if t["status"] == "OPEN"]
    tasks = {t["team"]: t["task_id"] for t in open_tasks}
    assert set(tasks) == {"finance", "warehouse"}
    # The dismissal's email says the payment still waits, for whom, and until the tasks' date.
    mail = await seller_mail(desk, cid, "appeal_outcome")
    due = max(datetime.fromisoformat(t["due_at"]) for t in open_tasks)
    assert f"Its payout of {inr(100_000)} stands" in mail.text, mail.text
    assert "our finance team confirms the payment" in mail.text, mail.text
    assert f"We expect this by {india_time(due)}" in mail.text, mail.text
    for team, key in (("warehouse", AGENT), ("finance", FINANCE)):
        r = await desk.client.post(
            f"/v1/tasks/{tasks[team]}/complete",
            json={"resolution": "Confirmed"},
            headers=harness.key(key),
        )
        assert r.status_code == 200, r.text
    closed = await desk.wait_case(rid, lambda c: c["state"] == "CLOSED", what="settled")
    assert closed["payout"] == 100_000
    paid = await desk.sql(
        "SELECT -sum(amount) AS paid FROM ledger_entries WHERE case_id = :c "
        "AND account_type = 'seller_payable'",
        c=cid,
    )
    assert paid[0]["paid"] == 100_000
    [*_, last] = [e for e in await desk.events(cid) if e["ce_type"].split(".")[2] in _MONEY]
    settled = CaseSettled.model_validate(last["payload"])
    assert settled.ledger_transaction_id is not None and settled.paid_before == 0
    [draft] = compose_case_event(
        settled, _MAIL, now=desk.clock.now(), seller_address="seller@example.com"
    ).drafts
    mail = render(draft.template, draft.context)
    assert f"{inr(100_000)} has been credited" in mail.text, mail.text
    assert "replaces" not in mail.text


_MONEY = {"case_decided", "case_settled"}
_MAIL = NotificationsSettings(management_recipients=["desk@example.com"])


async def seller_mail(
    eng: Engine, case_id: str, template: str, *, event: CaseUpdated | None = None
) -> Rendered:
    """The seller email `template` of the case's latest decision (or of `event`), composed from
    the event reconciliation published, as notifications composes it."""
    told: CaseEventBase
    if event is None:
        events = await eng.events(case_id)
        [*_, decided] = [e for e in events if e["ce_type"].split(".")[2] == "case_decided"]
        told = CaseDecided.model_validate(decided["payload"])
    else:
        told = event
    drafts = compose_case_event(
        told, _MAIL, now=eng.clock.now(), seller_address="seller@example.com"
    ).drafts
    [draft] = [d for d in drafts if d.template == template]
    return render(draft.template, draft.context)
