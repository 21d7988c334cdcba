"""Every field of every JSON body, attacked one at a time: each route's own OpenAPI example is
the base (so the rest of the body is one the route accepts), and each leaf value in turn is
replaced by a classic hostile value: NUL and control characters, lone surrogates, very long
strings, look-alike ids, numbers past BIGINT, fractions and NaN where integers go, negative and
zero amounts, dates in year 1 and 9999, naive and far-future instants, the wrong JSON type, deep
nesting. Whatever the value, the answer is never a 5xx, never a hang, and every refusal is
problem+json; a new route or field is attacked without being listed.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.access import RouteAccess
from shared.auth import Role
from tests.conftest import Harness
from tests.integration.test_hostile_client import ROUTES, _route_id
from tests.support.factories import (
    awb_of,
    desipost_snapshot,
    escalation_body,
    rapidroute_event,
    swiftship_event,
)
from tests.support.feed import feed_return
from tests.support.keys import DUTY_KEYS, add_key
from tests.support.patient import patiently
from tests.support.routes import service_apps
from tests.support.services import RunningService
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers
from tests.support.waiting import eventually

PROBLEM = "application/problem+json"
DEMO_SELLER = "S-DEMO-1"

# Raw JSON text for each classic, so that what `json.dumps` would refuse or normalise (NaN, a
# lone surrogate, a number past any float) is sent as a hostile client would write it.
CLASSICS: dict[str, str] = {
    "NUL": json.dumps("a\u0000b"),
    "a control character": json.dumps("a\u0007b"),
    "a lone surrogate": '"a\\ud800b"',
    "a lone low surrogate": '"\\udfff"',
    "an empty string": '""',
    "blanks": '"   "',
    "100,000 characters": json.dumps("x" * 100_000),
    "right-to-left override": json.dumps("RET\u202e1-GNP"),
    "a Cyrillic look-alike of the demo seller": json.dumps("\u0405-DEMO-1"),
    "a path": json.dumps("../../etc/passwd"),
    "markup": json.dumps("<script>alert(1)</script>"),
    "SQL": json.dumps("x' OR '1'='1"),
    "2^63": str(2**63),
    "-2^63-1": str(-(2**63) - 1),
    "10^40": str(10**40),
    "1e400": "1e400",
    "NaN": "NaN",
    "-Infinity": "-Infinity",
    "a fraction": "0.5",
    "minus one": "-1",
    "zero": "0",
    "true": "true",
    "null": "null",
    "an array": "[]",
    "an object": "{}",
    "an array of 50,000": "[" + ",".join(["1"] * 50_000) + "]",
    "nested 5,000 deep": "[" * 5_000 + "]" * 5_000,
    "year 1": '"0001-01-01T00:00:00Z"',
    "year 9999": '"9999-12-31T23:59:59Z"',
    "no timezone": '"2026-11-24T10:00:00"',
    "a far-future instant": '"2099-12-31T23:59:59+00:00"',
    "an offset of 18 hours": '"2026-11-24T10:00:00+18:00"',
    "a date without a time": '"2026-11-24"',
    "a month 13": '"2026-13-01T00:00:00Z"',
}

MARK = "\u2603probe\u2603"  # stands for the classic in the serialised body


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every leaf of a JSON value by its path; an empty container counts as a leaf."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _with(body: Any, path: tuple[Any, ...], classic: str) -> bytes:
    mutated = copy.deepcopy(body)
    if not path:
        return classic.encode()
    target = mutated
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = MARK
    return json.dumps(mutated).replace(json.dumps(MARK), classic).encode()


KNOWN_PARTNERS = {"swiftship", "rapidroute", "desipost"}


# Ids made unique per request, so that a repeated id does not stop the request at a resend
# check (a partner the registry does not hold yet is a new one each time); the seller is the
# one the seller portal's key is bound to.
def _fresh(body: Any) -> Any:
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k == "seller_id" and isinstance(v, str):
                    out[k] = DEMO_SELLER
                elif k in {"return_id", "order_id", "refund_id", "buyer_id"} and isinstance(v, str):
                    out[k] = f"{v[:20]}-P{uuid.uuid4().hex[:8].upper()}"
                elif k == "version" or (k == "partner_id" and v not in KNOWN_PARTNERS):
                    out[k] = f"probe-{uuid.uuid4().hex[:8]}"
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(body)


def _example(service: str, route: RouteAccess) -> Any:
    spec = service_apps()[service].openapi()
    op = spec["paths"][route.path][route.method.lower()]
    return op["requestBody"]["content"].get("application/json", {}).get("example")


def _route(service: str, path: str) -> RouteAccess:
    return next(r for s, r in ROUTES if s == service and r.path == path and r.method == "POST")


JSON_BODY_ROUTES = [
    (service, route)
    for service, route in ROUTES
    if route.route.dependant.body_params and _example(service, route) is not None
]

# The duty each route is attacked with: the narrowest that may call it, so that its ownership
# checks run too (a seller's own return, not any).
PREFERRED = [
    Role.SELLER_PORTAL,
    Role.MARKETPLACE,
    Role.OPS_AGENT,
    Role.OPS_MANAGER,
    Role.FINANCE,
    Role.ADMIN,
    Role.PARTNER,
]


def _duty_key(harness: Harness, route: RouteAccess) -> dict[str, str]:
    role = next(r for r in PREFERRED if r in (route.roles or ()))
    return harness.key(DUTY_KEYS[role])


# Real objects for the path's ids, made once: a return of the demo seller with its escalation
# and case, a policy draft, a task; ids that name nothing still reach the body's checks.
WORLD: dict[str, str] = {}


async def _world(harness: Harness, pipeline: dict[str, RunningService]) -> dict[str, str]:
    if WORLD:
        return WORLD
    body = await feed_return(pipeline["intake"], harness)
    rid = body["return_id"]
    seller = harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    r = await pipeline["intake"].client.post(
        "/v1/escalations", json=escalation_body(rid), headers=seller
    )
    assert r.status_code in (201, 202), r.text
    escalation_id = r.json()["escalation_id"]
    recon = pipeline["reconciliation"].client
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")

    async def case() -> list[dict[str, Any]]:
        r = await recon.get("/v1/cases", params={"return_id": rid}, headers=manager)
        return list(r.json()["items"])

    [found] = await eventually(case, timeout=60, what=f"the case of {rid}")
    case_id = found["case_id"]
    version = f"probe-{uuid.uuid4().hex[:8]}"
    r = await recon.post(
        "/v1/policies",
        json={"version": version, "changes": {"windows": {"claim_window_h": 119}}},
        headers=manager,
    )
    assert r.status_code == 201, r.text
    r = await recon.post(
        f"/v1/cases/{case_id}/tasks",
        json={"team": "logistics_partner_ops", "ask": "Check the hub's scan"},
        headers=manager,
    )
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    # A partner of the probe's own: its secrets rotated and statuses mapped by the probe, never
    # those of the partners the rest of the session signs as.
    partner_id = f"probe-{uuid.uuid4().hex[:8]}"
    partner = {
        **_example("intake", _route("intake", "/v1/admin/partners")),
        "partner_id": partner_id,
    }
    r = await pipeline["intake"].client.post(
        "/v1/admin/partners", json=partner, headers=harness.key("DISPUTEDESK_KEY_ADMIN")
    )
    assert r.status_code == 201, r.text
    WORLD.update(
        partner_id=partner_id,
        return_id=rid,
        escalation_id=escalation_id,
        case_id=case_id,
        version=version,
        task_id=task_id,
    )
    return WORLD


def _path(service: str, route: RouteAccess, world: dict[str, str]) -> str:
    def value(name: str) -> str:
        if name == "partner_id":
            return world["partner_id"] if service == "intake" else f"probe-{uuid.uuid4().hex[:8]}"
        if name == "seller_id":
            return f"S-PROBE-{uuid.uuid4().hex[:8].upper()}"
        return world.get(name) or str(uuid.uuid4())

    return re.sub(r"\{([^}]+)\}", lambda m: value(m.group(1)), route.path)


async def _patiently(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """One probe's answer, waiting out the rate limit's 429s (`patiently`). A request that gets
    no answer in 30 s raises TimeoutError."""
    return await patiently(send, tries=10, timeout_s=30)


async def _send(
    harness: Harness,
    pipeline: dict[str, RunningService],
    service: str,
    route: RouteAccess,
    body: bytes,
) -> httpx.Response:
    headers = {**_duty_key(harness, route), "content-type": "application/json"}
    path = _path(service, route, await _world(harness, pipeline))
    return await _patiently(
        lambda: pipeline[service].client.request(route.method, path, headers=headers, content=body)
    )


@pytest.mark.parametrize(
    "service, route", JSON_BODY_ROUTES, ids=[_route_id(x) for x in JSON_BODY_ROUTES]
)
async def test_the_documented_example_is_a_body_its_route_accepts(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    """A client that copies a route's OpenAPI example is never told its body is wrong: the
    answer may be about the object (404, 409 for its state), never 422 or 5xx."""
    body = json.dumps(_fresh(_example(service, route))).encode()
    r = await _send(harness, pipeline, service, route, body)
    assert r.status_code < 500 and r.status_code != 422, r.text


@pytest.mark.parametrize(
    "service, route", JSON_BODY_ROUTES, ids=[_route_id(x) for x in JSON_BODY_ROUTES]
)
async def test_no_value_in_any_field_fails_the_service(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    base = _example(service, route)
    r = await _send(harness, pipeline, service, route, json.dumps(_fresh(base)).encode())
    failures: list[str] = []
    for leaf in _leaves(base):
        for what, classic in CLASSICS.items():
            where = f"{'.'.join(map(str, leaf)) or 'body'} = {what}"
            try:
                r = await _send(
                    harness, pipeline, service, route, _with(_fresh(base), leaf, classic)
                )
            except TimeoutError:
                failures.append(f"{where}: no answer in 30 s")
                continue
            if r.status_code >= 500:
                failures.append(f"{where}: {r.status_code} {r.text[:200]}")
            elif r.status_code >= 400 and not r.headers["content-type"].startswith(PROBLEM):
                failures.append(f"{where}: {r.status_code} not problem+json")
    assert not failures, "\n".join(failures)


# --- partner webhooks: signed as the partner signs, every field attacked ----------------------


def _webhook(harness: Harness, partner: str, return_id: str) -> tuple[Any, Any]:
    """A partner's body for a fed return, and how to sign a body of it."""
    secrets = harness.secrets
    if partner == "swiftship":
        body = json.loads(swiftship_event(return_id))
        return body, lambda raw: swiftship_headers(
            secrets["SWIFTSHIP_SECRET"], raw, webhook_id=f"msg_{uuid.uuid4().hex}"
        )
    if partner == "rapidroute":
        body = {"events": [rapidroute_event(return_id)]}
        return body, lambda raw: rapidroute_headers(secrets["RAPIDROUTE_SECRET"], raw)
    snapshot = desipost_snapshot(
        return_id, awb_of(return_id), [("PICKED UP", "24-11-2026 15:43:02")]
    )
    return json.loads(snapshot), lambda raw: desipost_headers(secrets["DESIPOST_API_KEY"])


@pytest.mark.parametrize("partner", ["swiftship", "rapidroute", "desipost"])
async def test_no_value_in_any_field_of_a_signed_webhook_fails_intake(
    harness: Harness, pipeline: dict[str, RunningService], partner: str
) -> None:
    intake = pipeline["intake"]
    body = await feed_return(intake, harness, partner_id=partner)
    base, sign = _webhook(harness, partner, body["return_id"])
    failures: list[str] = []
    for leaf in _leaves(base):
        for what, classic in CLASSICS.items():
            raw = _with(base, leaf, classic)
            where = f"{'.'.join(map(str, leaf)) or 'body'} = {what}"
            try:
                r = await _patiently(
                    lambda raw=raw: intake.client.post(
                        f"/v1/webhooks/{partner}", content=raw, headers=sign(raw)
                    )
                )
            except TimeoutError:
                failures.append(f"{where}: no answer in 30 s")
                continue
            if r.status_code >= 500 or r.status_code in (401, 403, 429):
                # 401 would mean the probe's own signing failed: nothing behind it was attacked.
                failures.append(f"{where}: {r.status_code} {r.text[:200]}")
            elif r.status_code >= 400 and not r.headers["content-type"].startswith(PROBLEM):
                failures.append(f"{where}: {r.status_code} not problem+json")
    assert not failures, "\n".join(failures)


# --- headers: every route with a body, its accepted body, one odd header at a time ------------

ODD_HEADERS: dict[str, tuple[str, bytes]] = {
    "an Idempotency-Key of 10,000 characters": ("idempotency-key", b"k" * 10_000),
    "an Idempotency-Key with a space": ("idempotency-key", b"a b"),
    "an Idempotency-Key not ASCII": ("idempotency-key", "ключ".encode()),
    "an empty Idempotency-Key": ("idempotency-key", b""),
    "a traceparent of all ones": ("traceparent", b"00-" + b"f" * 32 + b"-" + b"f" * 16 + b"-01"),
    "a traceparent of zeros": ("traceparent", b"00-" + b"0" * 32 + b"-" + b"0" * 16 + b"-01"),
    "a traceparent of another version": ("traceparent", b"ff-" + b"a" * 32 + b"-" + b"b" * 16),
    "a traceparent of 6,000 characters": ("traceparent", b"00-" + b"a" * 6000),
    "a tracestate of 6,000 characters": ("tracestate", b"k=" + b"v" * 6000),
    "a content type with empty parameters": ("content-type", b"application/json;;;"),
    "a quoted charset": ("content-type", b'application/json; charset="utf-8"'),
    "a content type of 6,000 characters": ("content-type", b"application/json; x=" + b"y" * 6000),
    "an Accept of XML only": ("accept", b"application/xml"),
    "a Content-Encoding of gzip": ("content-encoding", b"gzip"),
}


@pytest.mark.parametrize(
    "service, route", JSON_BODY_ROUTES, ids=[_route_id(x) for x in JSON_BODY_ROUTES]
)
async def test_no_odd_header_fails_the_service(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    world = await _world(harness, pipeline)
    base = _example(service, route)
    failures: list[str] = []
    for what, (name, value) in ODD_HEADERS.items():
        headers: dict[str, str | bytes] = {
            **_duty_key(harness, route),
            "content-type": "application/json",
        }
        headers[name] = value
        r = await _patiently(
            lambda headers=headers: pipeline[service].client.request(
                route.method,
                _path(service, route, world),
                headers=headers,
                content=json.dumps(_fresh(base)).encode(),
            )
        )
        if r.status_code >= 500:
            failures.append(f"{what}: {r.status_code} {r.text[:200]}")
        elif r.status_code >= 400 and not r.headers["content-type"].startswith(PROBLEM):
            failures.append(f"{what}: {r.status_code} not problem+json")
    assert not failures, "\n".join(failures)


# --- owners: another seller's key on everything of the demo seller's -------------------------

SELLER_ROUTES = [
    (service, route) for service, route in ROUTES if Role.SELLER_PORTAL in (route.roles or ())
]


@pytest.mark.parametrize("service, route", SELLER_ROUTES, ids=[_route_id(x) for x in SELLER_ROUTES])
async def test_another_sellers_key_touches_nothing_of_the_demo_sellers(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    """Every seller-portal route, its ids naming the demo seller's own return and escalation and
    its body (the route's accepted one) naming the demo seller: another seller's key is refused
    (404 like an unknown id, 403 for filing in the demo seller's name), whatever the route, a
    new one included; a list shows only the key's own seller."""
    world = await _world(harness, pipeline)
    other = add_key(
        harness.env, f"portal:{uuid.uuid4().hex[:6]}", [Role.SELLER_PORTAL], seller_id="S-OTHER"
    )
    path = _path(service, route, world)
    if route.method == "GET":
        r = await pipeline[service].client.get(path, headers=other)
        if "{" not in route.path:  # a list: scoped to the key's seller, never the demo's
            assert r.status_code == 200, r.text
            assert all(i.get("seller_id") == "S-OTHER" for i in r.json()["items"]), r.text
            r = await pipeline[service].client.get(
                path, params={"seller_id": DEMO_SELLER}, headers=other
            )
            assert r.status_code == 403, r.text
            return
    else:
        body = json.dumps(_fresh(_example(service, route))).encode()
        headers = {**other, "content-type": "application/json"}
        r = await pipeline[service].client.request(
            route.method, path, headers=headers, content=body
        )
    assert r.status_code in (403, 404), (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)


# --- the mail gateway: raw MIME as a hostile sender writes it --------------------------------


def _mime(headers: bytes = b"", body: bytes = b"Thanks, see attached.\r\n") -> bytes:
    base = (
        b"From: Seller <seller@example.com>\r\n"
        b"To: reply+nothing@replies.disputedesk.dev\r\n"
        b"Subject: Re: your claim\r\n"
        b"Message-ID: <" + uuid.uuid4().hex.encode() + b"@example.com>\r\n"
    )
    return base + headers + b"\r\n" + body


def _nested(depth: int) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    return _mime(
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="top"\r\n',
        b"--top\r\n" + head + b"Content-Type: text/plain\r\n\r\nhi\r\n",
    )


def _attachments(n: int, cte: bytes, payload: bytes) -> bytes:
    parts = b"".join(
        b"--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b'filename="../../%d\x00.jpg"\r\nContent-Transfer-Encoding: '
        % i
        + cte
        + b"\r\n\r\n"
        + payload
        + b"\r\n"
        for i in range(n)
    )
    return _mime(
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n',
        b"--x\r\nContent-Type: text/plain\r\n\r\nsee\r\n" + parts + b"--x--\r\n",
    )


HOSTILE_MAIL = {
    "NUL in a header and the body": _mime(b"X-A: a\x00b\r\n", b"a\x00b\r\n"),
    "8-bit bytes in headers": _mime(b"Subject: \xff\xfe\xfd\r\n"),
    "a broken encoded word": _mime(b"Subject: =?utf-8?b?!!!?= =?x-nothing?q?a?=\r\n"),
    "an unknown charset": _mime(b"Content-Type: text/plain; charset=x-nothing\r\n", b"\xff\r\n"),
    "UTF-7": _mime(b"Content-Type: text/plain; charset=utf-7\r\n", b"+AGEAYgBj-\r\n"),
    "a header of 200 KB": _mime(b"X-Long: " + b"a" * 200_000 + b"\r\n"),
    "a To of 5,000 characters": _mime(b"To: " + b"r" * 5000 + b"@replies.disputedesk.dev\r\n"),
    "a forged reply token": _mime(b"To: reply+AAAA.BBBB.CCCC@replies.disputedesk.dev\r\n"),
    "a Date in year 9999": _mime(b"Date: Fri, 31 Dec 9999 23:59:59 +9999\r\n"),
    "a Date that is no date": _mime(b"Date: yesterday, around noon\r\n"),
    "an In-Reply-To of 50 KB": _mime(b"In-Reply-To: <" + b"i" * 50_000 + b">\r\n"),
    "multiparts nested 2,000 deep": _nested(2000),
    "a multipart without its end": _mime(
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n', b"--x\r\nhalf"
    ),
    "a multipart without a boundary": _mime(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n", b"--x\r\nhalf\r\n--x--\r\n"
    ),
    "base64 that is not": _attachments(3, b"base64", b"!!!not base64***"),
    "an unknown transfer encoding": _attachments(3, b"x-uuencode", b"begin 644 x\r\n`\r\nend"),
    "2,000 attachments": _attachments(2000, b"7bit", b"x"),
    "a message/rfc822 inside": _mime(
        b"MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n", b"Subject: \xff\r\n\r\n\x00"
    ),
    "a delivery report that is not": _mime(
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type="delivery-status"; '
        b'boundary="r"\r\n',
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n"
        b"Final-Recipient: rfc822; \xff@\x00\r\n--r--\r\n",
    ),
    "headers only, no blank line": b"From: a@example.com\r\nTo: b@example.com",
}


async def test_no_raw_email_fails_the_mail_gateway(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    client = pipeline["notifications"].client
    headers = {**harness.key("DISPUTEDESK_KEY_ADMIN"), "content-type": "message/rfc822"}
    failures = []
    for what, raw in HOSTILE_MAIL.items():
        try:
            r = await asyncio.wait_for(
                client.post("/v1/inbound/email", content=raw, headers=headers), timeout=30
            )
        except TimeoutError:
            failures.append(f"{what}: no answer in 30 s")
            continue
        if r.status_code >= 500:
            failures.append(f"{what}: {r.status_code} {r.text[:200]}")
        elif r.status_code >= 400 and not r.headers["content-type"].startswith(PROBLEM):
            failures.append(f"{what}: {r.status_code} not problem+json")
    assert not failures, "\n".join(failures)


async def test_the_mail_gateway_answers_one_title_per_problem_type(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """RFC 9457: a problem type keeps one title, whoever answers (the mail gateway wrote
    "Unprocessable Content" where every other refusal of its type says "Unprocessable content")."""
    client = pipeline["notifications"].client
    admin = harness.key("DISPUTEDESK_KEY_ADMIN")
    r = await client.post(
        "/v1/inbound/email", content=b"  ", headers={**admin, "content-type": "message/rfc822"}
    )
    assert r.status_code == 422 and r.json()["title"] == "Unprocessable content", r.text
    r = await client.post(
        "/v1/inbound/email", content=b"x", headers={**admin, "content-type": "text/plain"}
    )
    assert r.status_code == 415 and r.json()["title"] == "Unsupported media type", r.text
