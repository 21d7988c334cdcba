"""`Idempotency-Key` on every mutating route of every service, one implementation
(shared/idempotency.py): the routes come from the apps' own route tables, so a new mutating
route without the header, or without a scenario here, fails these tests.

For each route: the same key and body replay the stored status and body without acting again;
the same key with another body (or on another object) is 422 naming the header; a request
still in flight under the key is 409 with Retry-After; a malformed header is 422 naming it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from disputedesk.credentials import DEV_CLIENTS
from services.fraud.models import Alert
from services.notifications.models import Message
from shared.access import route_access, walk_dependencies
from shared.idempotency import HEADER, claim
from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import escalation_body, return_body, uid
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
from tests.support.routes import service_apps
from tests.support.services import RunningService

PROBLEM = "application/problem+json"
CLIENT_OF = {env: client_id for env, client_id, _, _ in DEV_CLIENTS}

# Mutating routes that take no Idempotency-Key, and why.
EXEMPT = {
    # Partners deduplicate by their own delivery ids (webhook-id, event ids, snapshot dates).
    ("intake", "POST", "/v1/webhooks/{partner_id}"),
    # Reads that take a body (an address kept out of URLs and logs; a what-if that stores nothing).
    ("notifications", "POST", "/v1/suppressions/lookup"),
    # Raw MIME from the mail gateway: an email is recorded once per Message-ID, whatever retries.
    ("notifications", "POST", "/v1/inbound/email"),
    ("reconciliation", "POST", "/v1/policies/{version}/what-if"),
}


@dataclass
class Call:
    """One mutating request, and another that must not share its key."""

    client: httpx.AsyncClient
    service: RunningService | Engine
    key_env: str
    path: str
    body: Any
    other_path: str
    other_body: Any


@dataclass
class World:
    harness: Harness
    pipeline: dict[str, RunningService]
    desk: Engine

    def svc(self, name: str) -> RunningService:
        return self.pipeline[name]

    def auth(self, env: str) -> dict[str, str]:
        return self.harness.key(env)


Scenario = Callable[[World], Awaitable[Call]]
SCENARIOS: dict[tuple[str, str, str], Scenario] = {}


def scenario(service: str, method: str, path: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[(service, method, path)] = fn
        return fn

    return register


def mutating_routes() -> list[tuple[str, str, str]]:
    return [
        (name, r.method, r.path)
        for name, app in service_apps().items()
        for r in route_access(app)
        if r.mutating
    ]


MUTATING = mutating_routes()
KEYED = [r for r in MUTATING if r not in EXEMPT]


def test_every_mutating_route_takes_the_shared_header_and_has_a_scenario() -> None:
    for name, app in service_apps().items():
        for r in route_access(app):
            if not r.mutating or (name, r.method, r.path) in EXEMPT:
                continue
            # The header is the route's own parameter or its `Change` dependency's.
            headers = {
                p.alias: p for d in walk_dependencies(r.route.dependant) for p in d.header_params
            }
            assert HEADER in headers, (name, r.method, r.path)
            spec = app.openapi()["paths"][r.path][r.method.lower()]
            (param,) = [p for p in spec["parameters"] if p["name"] == HEADER]
            schema = param["schema"].get("anyOf", [param["schema"]])[0]
            assert (schema["minLength"], schema["maxLength"], schema["pattern"]) == (
                1,
                255,
                "^[!-~]+$",
            ), (name, r.path)
    assert set(SCENARIOS) == set(KEYED)


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "idempotency") as eng:
        yield eng


async def _send(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    if body is None:
        return await client.request(method, path, headers=headers)
    return await client.request(
        method,
        path,
        content=json.dumps(body).encode(),
        headers={**headers, "content-type": "application/json"},
    )


@pytest.mark.parametrize(("service", "method", "path"), KEYED, ids=lambda v: str(v))
async def test_idempotency_per_route(
    service: str,
    method: str,
    path: str,
    harness: Harness,
    pipeline: dict[str, RunningService],
    desk: Engine,
) -> None:
    world = World(harness, pipeline, desk)
    call = await SCENARIOS[(service, method, path)](world)
    auth = harness.key(call.key_env)
    runtime_app = call.service.app

    # A malformed key: 422 naming the header, nothing done.
    for bad in ("", "has space", "x" * 256, "tab\there"):
        r = await _send(call.client, method, call.path, call.body, {**auth, HEADER: bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert f"header.{HEADER}" in {e["field"] for e in r.json()["errors"]}, r.text

    # In flight under this key (another replica holds the claim): 409 with Retry-After.
    busy = uuid.uuid4().hex
    raw = b"" if call.body is None else json.dumps(call.body).encode()
    held = await claim(
        runtime_app.state.sessionmaker,
        runtime_app.state.idempotency_model,
        client_id=CLIENT_OF[call.key_env],
        key=busy,
        route=f"{method} {call.path}",
        body=raw,
    )
    r = await _send(call.client, method, call.path, call.body, {**auth, HEADER: busy})
    assert r.status_code == 409 and r.headers["Retry-After"], r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    await held.release(runtime_app.state.sessionmaker)  # type: ignore[union-attr]

    # First time, sent three times at once (a client retrying on a timeout): done once; the
    # copies wait out the first (409, Retry-After) or get its stored answer, whichever order
    # they ran in. Again: the stored answer, not a second effect.
    key = uuid.uuid4().hex
    burst = await asyncio.gather(
        *(_send(call.client, method, call.path, call.body, {**auth, HEADER: key}) for _ in "abc")
    )
    fresh = [r for r in burst if r.headers.get("Idempotent-Replayed") != "true"]
    done = [r for r in fresh if r.status_code != 409]
    assert len(done) == 1, [(r.status_code, r.text[:200]) for r in burst]
    first = done[0]
    assert 200 <= first.status_code < 300, first.text
    for r in fresh:
        if r is not first:
            assert r.headers["content-type"].startswith(PROBLEM) and r.headers["Retry-After"]
    for r in burst:
        if r not in fresh:
            assert r.status_code == first.status_code, r.text
            assert r.content == first.content or r.json() == first.json()
    again = await _send(call.client, method, call.path, call.body, {**auth, HEADER: key})
    assert again.status_code == first.status_code, again.text
    assert again.content == first.content or again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"

    # The same key on another request: 422 naming the header.
    other = await _send(
        call.client, method, call.other_path, call.other_body, {**auth, HEADER: key}
    )
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith(PROBLEM)
    assert f"header.{HEADER}" in {e["field"] for e in other.json()["errors"]}


async def test_a_key_is_scoped_to_its_caller(harness: Harness, pipeline: dict[str, Any]) -> None:
    """Two clients using the same key do not see each other's answers; one label per call."""
    fraud = pipeline["fraud"]
    other = add_key(harness.env, f"analyst.{uuid.uuid4().hex[:6]}", ["ops_agent"])
    key = "shared-key-" + uuid.uuid4().hex
    entity = uid("S")
    body = {"entity_type": "seller", "entity_id": entity, "verdict": "confirmed_fraud"}
    a = harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    r1 = await fraud.client.post("/v1/labels", json=body, headers={**a, HEADER: key})
    r2 = await fraud.client.post("/v1/labels", json=body, headers={**a, HEADER: key})
    r3 = await fraud.client.post("/v1/labels", json=body, headers={**other, HEADER: key})
    assert r1.status_code == r2.status_code == r3.status_code == 201
    assert r1.json() == r2.json() and r3.json()["id"] != r1.json()["id"]
    n = await scalar(fraud, "SELECT count(*) FROM labels WHERE entity_id = :e", e=entity)
    assert n == 2  # one per caller, none from the replay


# --- scenarios: one per mutating route --------------------------------------------------------

MARKETPLACE = "DISPUTEDESK_KEY_MARKETPLACE"
PORTAL = "DISPUTEDESK_KEY_SELLER_PORTAL"
AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"
ADMIN = "DISPUTEDESK_KEY_ADMIN"
PARTNER_SWIFTSHIP = "DISPUTEDESK_KEY_PARTNER_SWIFTSHIP"


def _intake_call(
    w: World, env: str, path: str, body: Any, other: Any, other_path: str = ""
) -> Call:
    svc = w.svc("intake")
    return Call(svc.client, svc, env, path, body, other_path or path, other)


async def _escalation(w: World) -> str:
    intake = w.svc("intake").client
    ret = return_body()
    r = await intake.post("/v1/returns", json=ret, headers=w.auth(MARKETPLACE))
    assert r.status_code == 202, r.text
    r = await intake.post(
        "/v1/escalations", json=escalation_body(ret["return_id"]), headers=w.auth(PORTAL)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["escalation_id"])


@scenario("intake", "POST", "/v1/returns")
async def _returns(w: World) -> Call:
    return _intake_call(w, MARKETPLACE, "/v1/returns", return_body(), return_body())


@scenario("intake", "POST", "/v1/refunds")
async def _refunds(w: World) -> Call:
    def refund() -> dict[str, Any]:
        return {
            "refund_id": uid("RF"),
            "return_id": uid("RET"),
            "order_id": uid("ORD"),
            "amount": 1000,
            "issued_at": datetime.now(UTC).isoformat(),
        }

    return _intake_call(w, MARKETPLACE, "/v1/refunds", refund(), refund())


@scenario("intake", "POST", "/v1/escalations")
async def _escalations(w: World) -> Call:
    ret = return_body()
    r = await w.svc("intake").client.post("/v1/returns", json=ret, headers=w.auth(MARKETPLACE))
    assert r.status_code == 202, r.text
    body = escalation_body(ret["return_id"])
    return _intake_call(w, PORTAL, "/v1/escalations", body, {**body, "description": "Other."})


@scenario("intake", "POST", "/v1/escalations/{escalation_id}/evidence")
async def _evidence(w: World) -> Call:
    path = f"/v1/escalations/{await _escalation(w)}/evidence"
    return _intake_call(w, PORTAL, path, {"received_weight_g": 900}, {"received_weight_g": 800})


@scenario("intake", "POST", "/v1/escalations/{escalation_id}/appeal")
async def _appeal(w: World) -> Call:
    path = f"/v1/escalations/{await _escalation(w)}/appeal"
    return _intake_call(w, PORTAL, path, {"reason": "Look again"}, {"reason": "Other reason"})


@scenario("intake", "POST", "/v1/returns/{return_id}/appeal")
async def _return_appeal(w: World) -> Call:
    # A return its seller never escalated (a case the desk opened itself).
    ret = return_body()
    r = await w.svc("intake").client.post("/v1/returns", json=ret, headers=w.auth(MARKETPLACE))
    assert r.status_code == 202, r.text
    path = f"/v1/returns/{ret['return_id']}/appeal"
    return _intake_call(w, PORTAL, path, {"reason": "Look again"}, {"reason": "Other reason"})


@scenario("intake", "POST", "/v1/seller-feedback")
async def _feedback(w: World) -> Call:
    body = {"seller_id": "S-DEMO-1", "rating": 4, "text": "Fair"}
    return _intake_call(w, PORTAL, "/v1/seller-feedback", body, {**body, "rating": 2})


def _partner(partner_id: str) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "display_name": "Idempotent",
        "scheme": "rapidroute",
        "liability_cap": 1,
        "secret": "rr_live_" + uuid.uuid4().hex,
    }


async def _new_partner(w: World) -> str:
    partner_id = uid("idem").lower()
    r = await w.svc("intake").client.post(
        "/v1/admin/partners", json=_partner(partner_id), headers=w.auth(ADMIN)
    )
    assert r.status_code == 201, r.text
    return partner_id


@scenario("intake", "POST", "/v1/admin/partners")
async def _partners(w: World) -> Call:
    a, b = _partner(uid("idem").lower()), _partner(uid("idem").lower())
    return _intake_call(w, ADMIN, "/v1/admin/partners", a, b)


@scenario("intake", "POST", "/v1/admin/partners/{partner_id}/secrets")
async def _secrets(w: World) -> Call:
    path = f"/v1/admin/partners/{await _new_partner(w)}/secrets"
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    def rotation() -> dict[str, Any]:
        return {"secret": "rr_live_" + uuid.uuid4().hex, "previous_not_after": until}

    return _intake_call(w, ADMIN, path, rotation(), rotation())


@scenario("intake", "POST", "/v1/admin/partners/{partner_id}/status-mappings")
async def _mappings(w: World) -> Call:
    path = f"/v1/admin/partners/{await _new_partner(w)}/status-mappings"
    a = {"status": "IDEM_A", "event_type": "IN_TRANSIT"}
    return _intake_call(w, ADMIN, path, a, {**a, "status": "IDEM_B"})


@scenario("intake", "POST", "/v1/admin/replay")
async def _replay(w: World) -> Call:
    a, b = await _new_partner(w), await _new_partner(w)
    return _intake_call(w, ADMIN, "/v1/admin/replay", {"partner_id": a}, {"partner_id": b})


def _fraud_call(w: World, env: str, path: str, body: Any, other_path: str, other: Any) -> Call:
    svc = w.svc("fraud")
    return Call(svc.client, svc, env, path, body, other_path, other)


async def _alert(w: World) -> str:
    alert_id = uuid.uuid4()
    async with w.svc("fraud").runtime.sessionmaker() as session, session.begin():
        session.add(
            Alert(
                alert_id=alert_id,
                pattern="idempotency-test",
                entity_type="seller",
                entity_id=uid("S"),
                subject_key=uid("subject"),
                status="open",
                severity="low",
                summary="made by a test",
                evidence={},
                suggested_action="none",
                raised_at=datetime.now(UTC),
            )
        )
    return str(alert_id)


@scenario("fraud", "POST", "/v1/alerts/{alert_id}/acknowledge")
async def _acknowledge(w: World) -> Call:
    path = f"/v1/alerts/{await _alert(w)}/acknowledge"
    return _fraud_call(w, AGENT, path, {"note": "seen"}, path, {"note": "seen twice"})


def _watch() -> dict[str, Any]:
    return {"entity_type": "buyer", "entity_id": uid("B"), "reason": "test"}


@scenario("fraud", "POST", "/v1/watchlist")
async def _watchlist(w: World) -> Call:
    return _fraud_call(w, AGENT, "/v1/watchlist", _watch(), "/v1/watchlist", _watch())


async def _watch_entry(w: World) -> int:
    r = await w.svc("fraud").client.post("/v1/watchlist", json=_watch(), headers=w.auth(AGENT))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@scenario("fraud", "DELETE", "/v1/watchlist/{entry_id}")
async def _unwatch(w: World) -> Call:
    a, b = await _watch_entry(w), await _watch_entry(w)
    return _fraud_call(w, AGENT, f"/v1/watchlist/{a}", None, f"/v1/watchlist/{b}", None)


@scenario("fraud", "POST", "/v1/labels")
async def _labels(w: World) -> Call:
    body = {"entity_type": "seller", "entity_id": uid("S"), "verdict": "legitimate"}
    return _fraud_call(w, AGENT, "/v1/labels", body, "/v1/labels", {**body, "note": "changed"})


async def _review_case(w: World, amount: int = 249_900) -> tuple[str, Any]:
    rid = uid("RET-IDEM")
    filed = w.desk.envelope(escalation(rid, amount=amount))
    await w.desk.send(
        filed,
        return_initiated(rid, partner="rapidroute", item_value=amount),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner="rapidroute"),
        scan(rid, "PICKED_UP", T0, weight=1000, partner="rapidroute"),
        assessed(filed, "HIGH"),
    )
    case = await w.desk.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    return str(case["case_id"]), filed


def _desk_call(w: World, env: str, path: str, body: Any, other: Any) -> Call:
    return Call(w.desk.client, w.desk, env, path, body, path, other)


def _desk_scenario(action: str, env: str, body: dict[str, Any], other: dict[str, Any]) -> None:
    @scenario("reconciliation", "POST", f"/v1/cases/{{case_id}}/{action}")
    async def _run(w: World) -> Call:
        case_id, _ = await _review_case(w)
        return _desk_call(w, env, f"/v1/cases/{case_id}/{action}", body, other)


_desk_scenario("assign", AGENT, {"assignee": "agent.asha"}, {"assignee": "manager.ravi"})
_desk_scenario("notes", AGENT, {"note": "Called the hub"}, {"note": "Another note"})
_desk_scenario(
    "calls",
    AGENT,
    {"direction": "INBOUND", "duration_s": 60, "summary": "Seller called"},
    {"direction": "OUTBOUND", "duration_s": 60, "summary": "Seller called"},
)
_desk_scenario(
    "evidence-requests",
    AGENT,
    {"checklist": ["unboxing video"], "reason": "We need the video"},
    {"checklist": ["photos"], "reason": "We need the photos"},
)
_desk_scenario(
    "decision",
    AGENT,
    {"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner lost it"},
    {"liable_party": "PARTNER", "payout_pct": 50, "reason": "Partner lost it"},
)
_desk_scenario("escalate", AGENT, {"reason": "Needs a manager"}, {"reason": "Another reason"})


@scenario("reconciliation", "POST", "/v1/cases/{case_id}/approve")
async def _approve(w: World) -> Call:
    case_id, _ = await _review_case(w, amount=3_000_000)
    r = await w.desk.client.post(
        f"/v1/cases/{case_id}/decision",
        json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner lost it"},
        headers=w.auth(MANAGER),
    )
    assert r.json()["state"] == "ESCALATED", r.text
    path = f"/v1/cases/{case_id}/approve"
    return _desk_call(w, MANAGER_2, path, {"reason": "Checked"}, {"reason": "Checked twice"})


@scenario("reconciliation", "POST", "/v1/cases/{case_id}/appeal-decision")
async def _appeal_decision(w: World) -> Call:
    case_id, filed = await _review_case(w)
    r = await w.desk.client.post(
        f"/v1/cases/{case_id}/decision",
        json={"liable_party": "BUYER", "payout_pct": 50, "reason": "Shared responsibility"},
        headers=w.auth(MANAGER),
    )
    assert r.status_code == 200, r.text
    await w.desk.send(appeal(filed.payload, w.desk.clock.now()))
    await w.desk.wait_case(filed.payload.return_id, lambda c: c["state"] == "APPEALED")
    body = {"overturn": False, "reason": "The decision stands"}
    path = f"/v1/cases/{case_id}/appeal-decision"
    return _desk_call(w, MANAGER_2, path, body, {**body, "reason": "It stands anyway"})


@scenario("reconciliation", "POST", "/v1/policies")
async def _policies(w: World) -> Call:
    def draft() -> dict[str, Any]:
        return {
            "version": f"sop-idem-{uuid.uuid4().hex[:8]}",
            "changes": {"windows": {"claim_window_h": 120}},
        }

    return _desk_call(w, MANAGER, "/v1/policies", draft(), draft())


async def _draft(w: World) -> str:
    version = f"sop-idem-{uuid.uuid4().hex[:8]}"
    r = await w.desk.client.post(
        "/v1/policies",
        json={"version": version, "changes": {"windows": {"claim_window_h": 121}}},
        headers=w.auth(MANAGER),
    )
    assert r.status_code == 201, r.text
    return version


def _far_future(w: World) -> str:
    # Far beyond any clock this engine reaches: an adopted test draft never decides a case.
    return (w.desk.clock.now() + timedelta(days=3650)).isoformat()


@scenario("reconciliation", "POST", "/v1/policies/{version}/propose")
async def _propose(w: World) -> Call:
    path = f"/v1/policies/{await _draft(w)}/propose"
    body = {"effective_at": _far_future(w), "reason": "Agreed at review"}
    return _desk_call(w, MANAGER, path, body, {**body, "reason": "Agreed again"})


@scenario("reconciliation", "POST", "/v1/policies/{version}/approve")
async def _adopt(w: World) -> Call:
    version = await _draft(w)
    r = await w.desk.client.post(
        f"/v1/policies/{version}/propose",
        json={"effective_at": _far_future(w), "reason": "Agreed at review"},
        headers=w.auth(MANAGER),
    )
    assert r.status_code == 200, r.text
    path = f"/v1/policies/{version}/approve"
    return _desk_call(w, MANAGER_2, path, {"reason": "Read it"}, {"reason": "Read it twice"})


@scenario("reconciliation", "POST", "/v1/policies/{version}/retire")
async def _retire(w: World) -> Call:
    path = f"/v1/policies/{await _draft(w)}/retire"
    return _desk_call(w, MANAGER, path, {"reason": "Not needed"}, {"reason": "Not wanted"})


def _endpoint_body(url: str) -> dict[str, Any]:
    return {"url": url, "scheme": "timestamped_hmac", "secret": "rr_idem_" + uuid.uuid4().hex}


@scenario("reconciliation", "PUT", "/v1/partner-endpoints/{partner_id}")
async def _endpoint(w: World) -> Call:
    path = f"/v1/partner-endpoints/{uid('idem').lower()}"
    body = _endpoint_body("http://127.0.0.1:9/notices")
    return _desk_call(w, ADMIN, path, body, _endpoint_body("http://127.0.0.1:9/other"))


@scenario("reconciliation", "POST", "/v1/partner-endpoints/{partner_id}/enabled")
async def _endpoint_enabled(w: World) -> Call:
    partner = uid("idem").lower()
    r = await w.desk.client.put(
        f"/v1/partner-endpoints/{partner}",
        json=_endpoint_body("http://127.0.0.1:9/notices"),
        headers=w.auth(ADMIN),
    )
    assert r.status_code == 200, r.text
    path = f"/v1/partner-endpoints/{partner}/enabled"
    return _desk_call(w, ADMIN, path, {"enabled": False}, {"enabled": True})


async def _notice(w: World, *, partner: str, delivery: str, dispute: str) -> uuid.UUID:
    """A debit notice written straight into the desk's database, in the state the route needs."""
    from services.reconciliation.models import DebitNotice, NoticeContest

    notice_id, now = uuid.uuid4(), w.desk.clock.now()
    async with w.desk.sessionmaker() as session, session.begin():
        session.add(
            DebitNotice(
                notice_id=notice_id,
                case_id=uid("CASE-IDEM"),
                partner_id=partner,
                settlement_id=uuid.uuid4(),
                amount=1000,
                rule_id="L6",
                policy_version="sop-v1",
                contest_window_days=7,
                payload={},
                delivery=delivery,
                attempts=8 if delivery == "DEAD" else 1,
                dispute=dispute,
                reversed_amount=0,
                created_at=now,
            )
        )
        if dispute == "CONTESTED":
            await session.flush()
            session.add(
                NoticeContest(
                    contest_id=uuid.uuid4(),
                    notice_id=notice_id,
                    partner_id=partner,
                    reason="Weighed at pickup",
                    evidence=[],
                    filed_by=f"partner:{partner}",
                    filed_at=now,
                )
            )
    return notice_id


@scenario("reconciliation", "POST", "/v1/partner-notices/{notice_id}/redeliver")
async def _redeliver(w: World) -> Call:
    notice_id = await _notice(w, partner=uid("idem").lower(), delivery="DEAD", dispute="OPEN")
    path = f"/v1/partner-notices/{notice_id}/redeliver"
    return _desk_call(w, MANAGER, path, None, {"again": True})


@scenario("reconciliation", "POST", "/v1/partner-notices/{notice_id}/ruling")
async def _ruling(w: World) -> Call:
    notice_id = await _notice(w, partner="swiftship", delivery="DELIVERED", dispute="CONTESTED")
    path = f"/v1/partner-notices/{notice_id}/ruling"
    body = {"outcome": "UPHELD", "reason": "The scans stand"}
    return _desk_call(w, MANAGER, path, body, {**body, "reason": "They stand"})


@scenario("reconciliation", "POST", "/v1/partner/notices/{notice_id}/contest")
async def _contest(w: World) -> Call:
    notice_id = await _notice(w, partner="swiftship", delivery="DELIVERED", dispute="OPEN")
    path = f"/v1/partner/notices/{notice_id}/contest"
    body = {"reason": "Weighed at pickup"}
    return _desk_call(w, PARTNER_SWIFTSHIP, path, body, {"reason": "Photographed at pickup"})


async def _task_on_case(w: World) -> str:
    case_id, _ = await _review_case(w)
    r = await w.desk.client.post(
        f"/v1/cases/{case_id}/tasks",
        json={"team": "warehouse", "ask": "Weigh the box"},
        headers=w.auth(AGENT),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["task_id"])


@scenario("reconciliation", "POST", "/v1/cases/{case_id}/tasks")
async def _tasks(w: World) -> Call:
    case_id, _ = await _review_case(w)
    body = {"team": "warehouse", "ask": "Weigh the box"}
    path = f"/v1/cases/{case_id}/tasks"
    return _desk_call(w, AGENT, path, body, {**body, "ask": "Photograph the box"})


@scenario("reconciliation", "POST", "/v1/tasks/{task_id}/comments")
async def _task_comments(w: World) -> Call:
    path = f"/v1/tasks/{await _task_on_case(w)}/comments"
    return _desk_call(w, AGENT, path, {"body": "Weighed: 900 g"}, {"body": "Weighed: 800 g"})


@scenario("reconciliation", "POST", "/v1/tasks/{task_id}/complete")
async def _task_complete(w: World) -> Call:
    path = f"/v1/tasks/{await _task_on_case(w)}/complete"
    return _desk_call(w, AGENT, path, {"resolution": "Weighed"}, {"resolution": "Done"})


@scenario("reconciliation", "POST", "/v1/tasks/{task_id}/cancel")
async def _task_cancel(w: World) -> Call:
    path = f"/v1/tasks/{await _task_on_case(w)}/cancel"
    return _desk_call(w, AGENT, path, {"resolution": "Not needed"}, {"resolution": "Moot"})


@scenario("reconciliation", "POST", "/v1/cases/{case_id}/escalate-to-management")
async def _escalate_to_management(w: World) -> Call:
    case_id, _ = await _review_case(w)
    path = f"/v1/cases/{case_id}/escalate-to-management"
    return _desk_call(w, AGENT, path, {"reason": "Repeat offender"}, {"reason": "Big money"})


@scenario("reconciliation", "POST", "/v1/partner-statements/{partner_id}/{month}/issue")
async def _issue_statement(w: World) -> Call:
    # Two partners the desk knows (a statement of an unknown one is 404), known by nothing else.
    paths = []
    for _ in range(2):
        partner = uid("idem").lower()
        r = await w.desk.client.put(
            f"/v1/partner-endpoints/{partner}",
            json=_endpoint_body("http://127.0.0.1:9/notices"),
            headers=w.auth(ADMIN),
        )
        assert r.status_code == 200, r.text
        paths.append(f"/v1/partner-statements/{partner}/2026-01/issue")
    return Call(w.desk.client, w.desk, "DISPUTEDESK_KEY_FINANCE", paths[0], None, paths[1], None)


async def _message(w: World, case_id: str | None = None) -> str:
    """A message sent to a seller, of `case_id`'s conversation when given."""
    message_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with w.svc("notifications").runtime.sessionmaker() as session, session.begin():
        session.add(
            Message(
                message_id=message_id,
                dedup_key=f"idem:{message_id}",
                template="acknowledgement",
                recipient=f"{message_id.hex}@example.com",
                recipient_hash=message_id.hex,
                subject="Made by a test",
                body_text="text",
                body_html="<p>html</p>",
                status="sent",
                attempts=1,
                next_attempt_at=now,
                sent_at=now,
                case_id=case_id,
            )
        )
    return str(message_id)


def _notifications_call(
    w: World, env: str, path: str, body: Any, other_path: str, other: Any
) -> Call:
    svc = w.svc("notifications")
    return Call(svc.client, svc, env, path, body, other_path, other)


@scenario("notifications", "POST", "/v1/messages/{message_id}/resend")
async def _resend(w: World) -> Call:
    a, b = await _message(w), await _message(w)
    return _notifications_call(
        w, AGENT, f"/v1/messages/{a}/resend", None, f"/v1/messages/{b}/resend", None
    )


@scenario("notifications", "POST", "/v1/cases/{case_id}/conversation/read")
async def _conversation_read(w: World) -> Call:
    a, b = uid("CASE"), uid("CASE")
    for case_id in (a, b):  # a case without a conversation answers 404
        await _message(w, case_id)
    return _notifications_call(
        w,
        AGENT,
        f"/v1/cases/{a}/conversation/read",
        None,
        f"/v1/cases/{b}/conversation/read",
        None,
    )


def _address() -> dict[str, Any]:
    return {"address": f"{uuid.uuid4().hex}@example.com", "reason": "manual"}


@scenario("notifications", "POST", "/v1/suppressions")
async def _suppress(w: World) -> Call:
    return _notifications_call(
        w, MANAGER, "/v1/suppressions", _address(), "/v1/suppressions", _address()
    )


async def _suppressed(w: World) -> str:
    r = await w.svc("notifications").client.post(
        "/v1/suppressions", json=_address(), headers=w.auth(MANAGER)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["address_hash"])


@scenario("notifications", "DELETE", "/v1/suppressions/{address_hash}")
async def _unsuppress(w: World) -> Call:
    a, b = await _suppressed(w), await _suppressed(w)
    return _notifications_call(
        w, MANAGER, f"/v1/suppressions/{a}", None, f"/v1/suppressions/{b}", None
    )


def _seller_profile() -> dict[str, Any]:
    return {"emails": [f"{uuid.uuid4().hex}@example.com"], "language": "en"}


@scenario("notifications", "PUT", "/v1/sellers/{seller_id}")
async def _seller(w: World) -> Call:
    a, b = f"S-IDEM-{uuid.uuid4().hex[:8]}", f"S-IDEM-{uuid.uuid4().hex[:8]}"
    return _notifications_call(
        w,
        MARKETPLACE,
        f"/v1/sellers/{a}",
        _seller_profile(),
        f"/v1/sellers/{b}",
        _seller_profile(),
    )
