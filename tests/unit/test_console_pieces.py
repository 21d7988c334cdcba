"""The console's pure pieces: money and problem sentences, session idle expiry, the draft diff,
and what happens when a service is slow (a fake transport stands in for it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from services.console.session import SessionStore
from services.console.sop.router import differences
from services.console.upstream import problem_from
from services.console.web import rupees
from shared.auth import Principal


def test_rupees_use_indian_grouping_and_integer_paise() -> None:
    assert rupees(249_900) == "₹2,499.00"
    assert rupees(1_234_567_89) == "₹12,34,567.89"
    assert rupees(-5) == "−₹0.05"
    assert rupees(None) == "—"


def test_a_validation_problem_becomes_sentences_beside_its_fields() -> None:
    response = httpx.Response(
        422,
        json={
            "title": "Validation failed",
            "detail": "Invalid field(s): body.reason",
            "errors": [
                {"field": "body.reason", "message": "String should have at least 3 characters"},
                {"field": "body.checklist.0", "message": "Field required"},
            ],
        },
    )
    problem = problem_from(response)
    assert problem.fields == {
        "reason": "Should have at least 3 characters.",
        "checklist": "Field required.",
    }
    assert "beside them" in problem.sentence


def test_a_refusal_without_fields_keeps_the_services_own_sentence() -> None:
    response = httpx.Response(403, json={"detail": "Four eyes: the proposer cannot approve"})
    assert problem_from(response).sentence == "Four eyes: the proposer cannot approve."
    assert problem_from(httpx.Response(404, text="nope")).sentence.startswith("That no longer")


def test_a_session_ends_after_its_idle_time_and_not_before() -> None:
    now = [1000.0]
    store = SessionStore(idle_timeout_s=60, clock=lambda: now[0])
    session = store.open("ddk_x", Principal("agent.asha", frozenset({"ops_agent"})))
    now[0] += 59
    assert store.touch(session.session_id) is session  # activity restarts the idle clock
    now[0] += 59
    assert store.touch(session.session_id) is session
    now[0] += 61
    assert store.touch(session.session_id) is None
    assert len(store) == 0
    assert store.touch("forged") is None


def test_abandoned_sessions_do_not_keep_their_keys() -> None:
    now = [0.0]
    store = SessionStore(idle_timeout_s=60, clock=lambda: now[0])
    store.open("ddk_gone", Principal("agent.asha", frozenset({"ops_agent"})))
    now[0] += 61
    store.open("ddk_new", Principal("manager.ravi", frozenset({"ops_manager"})))
    assert len(store) == 1


def test_the_draft_diff_names_dotted_fields() -> None:
    base = {"windows": {"claim_window_h": 72, "appeal_days": 7}, "version": "a"}
    draft = {"windows": {"claim_window_h": 24, "appeal_days": 7}, "version": "b"}
    assert differences(base, draft) == [
        {"field": "version", "from": "a", "to": "b"},
        {"field": "windows.claim_window_h", "from": 72, "to": 24},
    ]


async def test_a_slow_service_gives_a_clear_page_not_a_hang() -> None:
    from services.console.app import create_app
    from services.console.settings import ConsoleSettings

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(200, json={})

    app = create_app(
        ConsoleSettings(upstream_timeout_s=0.1, cookie_secure=False),
        transport=httpx.MockTransport(slow),
    )
    desk = app.state.sessions.open("ddk_x", Principal("agent.asha", frozenset({"ops_agent"})))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as client:
        client.cookies.set("dd_console", desk.session_id)
        response = await client.get("/")
    assert response.status_code == 503
    assert "slow to answer right now" in response.text


@pytest.mark.parametrize("path", ["/", "/cases/C-1", "/fraud", "/sop", "/reports"])
async def test_every_page_wants_a_session(path: str) -> None:
    from services.console.app import create_app

    app = create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as client:
        response = await client.get(path)
        rows = await client.get("/queue/rows", headers={"HX-Request": "true"})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert rows.status_code == 401 and rows.headers["HX-Redirect"] == "/sign-in"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_rupees_typed_in_a_form_become_integer_paise_and_anything_else_goes_to_the_api() -> None:
    from services.console.cases.router import _paise

    assert _paise("1234") == 123_400
    assert _paise("1234.5") == 123_450
    assert _paise("0.05") == 5
    assert _paise("12,00") == "12,00"  # the API's refusal names the field
    assert _paise("١٢٣٤") == "١٢٣٤"  # Arabic-Indic digits: to the API as typed, refused there
    assert _paise("１２３４.５") == "１２３４.５"


def test_case_page_actions_reach_the_api_that_owns_them() -> None:
    from services.console.cases.router import _call

    assert _call("C-1", "read", {})[:2] == ("notifications", "/v1/cases/C-1/conversation/read")
    assert _call("C-1", "task-done", {"task_id": "t/1", "resolution": "ok"})[1] == (
        "/v1/tasks/t%2F1/complete"
    )
    service, path, body = _call(
        "C-1", "ruling", {"notice_id": "n1", "outcome": "PARTIAL", "reversed_amount": "500"}
    )
    assert path == "/v1/partner-notices/n1/ruling" and body["reversed_amount"] == 50_000
    assert _call("C-1", "note", {"note": "x"})[1] == "/v1/cases/C-1/notes"


def test_failed_sign_ins_empty_an_addresses_bucket_which_refills_over_a_minute() -> None:
    from services.console.auth.throttle import SignInThrottle

    now = [0.0]
    throttle = SignInThrottle(3, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after_s("10.0.0.1") is None
        throttle.failed("10.0.0.1")
    assert throttle.retry_after_s("10.0.0.1") == 20  # one token every 20 s at 3 a minute
    assert throttle.retry_after_s("10.0.0.2") is None  # another address is not affected
    now[0] += 20
    assert throttle.retry_after_s("10.0.0.1") is None


def test_the_throttle_forgets_refilled_addresses_rather_than_grow_without_bound() -> None:
    from services.console.auth.throttle import SignInThrottle

    now = [0.0]
    throttle = SignInThrottle(3, clock=lambda: now[0])
    throttle.MAX_TRACKED = 5
    for n in range(5):
        throttle.failed(f"10.0.0.{n}")
    now[0] += 60
    throttle.failed("10.0.1.1")
    assert len(throttle) == 1


async def test_a_guessing_client_is_throttled_with_an_html_page_even_for_a_valid_key(
    tmp_path: Path,
) -> None:
    import json

    from services.console.app import create_app
    from services.console.settings import ConsoleSettings
    from shared.auth import hash_key

    good = "ddk_the_real_agent_key"
    ring = tmp_path / "keyring.json"
    ring.write_text(
        json.dumps(
            {
                "keys": [
                    {"key_hash": hash_key(good), "client_id": "agent.asha", "roles": ["ops_agent"]}
                ]
            }
        )
    )
    app = create_app(
        ConsoleSettings(keyring_file=ring, sign_in_failures_per_min=3, cookie_secure=False)
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:

        async def attempt(key: str) -> httpx.Response:
            page = await client.get("/sign-in")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            return await client.post("/sign-in", data={"key": key, "csrf_token": token})

        statuses = [(await attempt(f"guess-{n}")).status_code for n in range(3)]
        refused = await attempt(good)
    assert statuses == [401, 401, 401]
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "20"
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many failed sign-ins from your address. Wait 20 seconds" in refused.text
    assert "dd_console=" not in refused.headers.get("set-cookie", "")
    # Another address signs in meanwhile.
    other = httpx.ASGITransport(app=app, client=("198.51.100.9", 4711))
    async with httpx.AsyncClient(transport=other, base_url="http://console") as client:
        page = await client.get("/sign-in")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        ok = await client.post("/sign-in", data={"key": good, "csrf_token": token})
    assert ok.status_code == 303


def test_a_person_of_one_team_is_offered_its_teams_tasks_and_no_desk_work() -> None:
    """A button never leads to a certain refusal: a key bound to the warehouse is offered the
    warehouse's open task and nothing of the desk's (the services refuse those with 403)."""
    from services.console.cases.router import _offers

    store = SessionStore(idle_timeout_s=60)
    manager = Principal("wh.lead", frozenset({"ops_agent", "ops_manager"}), team="warehouse")
    desk = store.open("ddk_w", manager)
    case = {"state": "APPEALED", "proposal": None, "seller_unread_since": "2026-12-05T00:00Z"}
    tasks = [
        {"task_id": "t1", "team": "finance", "status": "OPEN"},
        {"task_id": "t2", "team": "warehouse", "status": "DONE"},
    ]
    notices = [{"dispute": "CONTESTED"}]
    offers = _offers(desk, case, tasks, notices)
    assert not any(offers.values()), offers
    tasks.append({"task_id": "t3", "team": "warehouse", "status": "OPEN"})
    offers = _offers(desk, case, tasks, notices)
    assert [k for k, v in offers.items() if v] == ["task_done"], offers
    assert [t["task_id"] for t in tasks if desk.can_close(t)] == ["t3"]
    # The desk's own manager (no team) keeps every offer it had.
    desk = store.open("ddk_m", Principal("manager.ravi", frozenset({"ops_manager"})))
    offers = _offers(desk, case, tasks, notices)
    assert offers["appeal"] and offers["ruling"] and offers["task_done"] and offers["note"]


def test_a_manager_of_one_team_is_offered_no_policy_lifecycle() -> None:
    """The policy's lifecycle (store a draft, propose, approve, retire) is the desk's: a manager
    bound to a team is offered none of it, as the service refuses it."""
    from services.console.sop.router import _lifecycle_offers

    store = SessionStore(idle_timeout_s=60)
    policy = {"status": "PROPOSED", "proposed_by": "someone.else", "in_force": False}
    team = store.open("ddk_t", Principal("wh.lead", frozenset({"ops_manager"}), team="warehouse"))
    assert not team.manages_policy
    assert not any(_lifecycle_offers(team, policy).values())
    desk = store.open("ddk_d", Principal("manager.ravi", frozenset({"ops_manager"})))
    assert desk.manages_policy
    assert _lifecycle_offers(desk, policy)["approve"] and _lifecycle_offers(desk, policy)["retire"]
