"""A hostile client gets problem+json naming what is wrong, from every service, never a 500:
on the wire (requests uvicorn cannot parse, URLs and headers past their limits, served as
`disputedesk run` serves them) and over every route of the four route tables (odd path ids,
ids that name nothing, bodies of the wrong type and encoding, odd query values, forged keys),
so a new route is attacked too. The desk console answers with its own error page instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from disputedesk import cli
from disputedesk.stack.supervisor import ServiceSpec
from shared.access import RouteAccess, route_access, walk_dependencies
from shared.auth import Role, RoleCheck
from shared.http_protocol import HTTP_PROTOCOL, http_limits
from tests.conftest import Harness
from tests.support.console import console_client
from tests.support.keys import DUTY_KEYS, add_key, revoke_key
from tests.support.patient import PatientTransport
from tests.support.routes import service_apps
from tests.support.services import RunningService

PROBLEM = "application/problem+json"


# --- on the wire ----------------------------------------------------------------------------


@pytest.fixture
async def pipeline(pipeline: dict[str, RunningService]) -> AsyncIterator[dict[str, RunningService]]:
    """The session's services, each reached through a patient client (`PatientTransport`)."""
    patient = {
        name: RunningService(
            app=svc.app,
            client=httpx.AsyncClient(
                transport=PatientTransport(svc.client._transport),
                base_url=svc.client.base_url,
                headers=svc.client.headers,
            ),
        )
        for name, svc in pipeline.items()
    }
    yield patient
    # The shared transport stays open: `PatientTransport` does not close what it wraps.
    for svc in patient.values():
        await svc.client.aclose()


@pytest.fixture
async def wire(pipeline: dict[str, RunningService]) -> AsyncIterator[int]:
    """Intake's app behind a real uvicorn with the protocol every process of ours runs with."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        pipeline["intake"].app,
        http=HTTP_PROTOCOL,
        lifespan="off",  # the pipeline's lifespan already runs the app
        log_config=None,
        access_log=False,
        log_level="error",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    body = await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split()[1]), headers, body


async def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await _response(reader)
    finally:
        writer.close()


async def _answers(port: int, request: bytes) -> list[int]:
    """The status of every answer on one connection, until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        statuses = []
        while not reader.at_eof():
            try:
                statuses.append((await _response(reader))[0])
            except asyncio.IncompleteReadError:
                break
        return statuses
    finally:
        writer.close()


def _headers(n: int) -> bytes:
    return b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 100) for i in range(n))


WIRE = [
    ("a method that is no token", b"G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "method"),
    ("an invented method", b"FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "method"),
    ("a space in the target", b"GET /he lthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "HTTP/"),
    ("a raw non-ASCII target", b"GET /v1/\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, "url"),
    ("an unknown version", b"GET /healthz HTTP/7.0\r\nHost: x\r\n\r\n", 400, "version"),
    ("a header without a colon", b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400, "header"),
    (
        "two Content-Length",
        b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        400,
        "Content-Length",
    ),
    (
        "a bad chunk size",
        b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        400,
        "chunk",
    ),
    ("HTTP/1.1 without Host", b"GET /healthz HTTP/1.1\r\nX-A: b\r\n\r\n", 400, "Host"),
    (
        "HTTP/1.1 with two Hosts",
        b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        400,
        "Host",
    ),
    (
        "a transfer coding we do not decode",
        b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"0\r\n\r\n",
        501,
        "gzip",
    ),
    ("TLS on the plain port", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" * 4, 400, "method"),
    ("a URL past the limit", b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % (b"a" * 9000), 414, "URL"),
    (
        "headers past the limit",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n%s\r\n" % _headers(400),
        431,
        "headers",
    ),
]


@pytest.mark.parametrize(
    "request_bytes, status, named", [w[1:] for w in WIRE], ids=[w[0] for w in WIRE]
)
async def test_what_uvicorn_cannot_parse_answers_problem_json(
    wire: int, request_bytes: bytes, status: int, named: str
) -> None:
    got, headers, body = await _exchange(wire, request_bytes)
    assert got == status, body
    assert headers["content-type"] == PROBLEM
    assert headers["connection"] == "close"
    doc = json.loads(body)
    assert doc["status"] == status and doc["title"]
    assert named in doc["detail"], doc


async def test_a_request_just_within_the_limits_is_served(wire: int) -> None:
    limits = http_limits()
    path = b"/healthz?pad=" + b"p" * (limits.max_url_bytes - 40)
    pad = _headers(limits.max_header_bytes // 130)
    request = b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, pad)
    status, headers, body = await _exchange(wire, request)
    assert status == 200, body
    assert json.loads(body)["service"] == "intake"


SERVED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
PIPELINED_REFUSALS = {
    "no Host": b"GET /healthz HTTP/1.1\r\n\r\n",
    "two Content-Length": b"POST /v1/returns HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    # Refused in its body: its head was complete, and it was queued behind the others.
    "a bad chunk size": b"POST /v1/returns HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    "Transfer-Encoding and Content-Length": b"POST /v1/returns HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("refused", PIPELINED_REFUSALS.values(), ids=list(PIPELINED_REFUSALS))
async def test_pipelined_requests_are_answered_in_order_until_a_refused_one(
    wire: int, refused: bytes
) -> None:
    # Sent in one write: the parser meets the refused request before any answer is written. Its
    # 400 must not go out first, where a client would read it as the first request's answer;
    # what follows it is never answered, as the connection ends with the 400.
    assert await _answers(wire, SERVED * 2 + refused + SERVED) == [200, 200, 400]


@pytest.fixture
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Header and body deadlines of half a second, for the connections opened meanwhile."""
    monkeypatch.setenv("HTTP_HEADER_TIMEOUT_S", "0.5")
    monkeypatch.setenv("HTTP_BODY_TIMEOUT_S", "0.5")
    http_limits.cache_clear()
    yield
    monkeypatch.undo()
    http_limits.cache_clear()


def _slow(harness: Harness) -> dict[str, bytes]:
    key = harness.key("DISPUTEDESK_KEY_MARKETPLACE")["Authorization"].encode()
    return {
        "nothing at all": b"",
        "headers cut off": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n",
        "a body cut off": b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nAuthorization: "
        + key
        + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"return_id":',
    }


async def test_a_client_too_slow_to_send_its_request_gets_408(
    short_deadlines: None, wire: int, harness: Harness
) -> None:
    # Slowloris: a connection held open by a request that never completes. Whatever the load,
    # the answer is 408 and the connection ends; only when it comes depends on the deadline.
    for what, request in _slow(harness).items():
        reader, writer = await asyncio.open_connection("127.0.0.1", wire)
        try:
            writer.write(request)
            await writer.drain()
            status, headers, body = await asyncio.wait_for(_response(reader), 60)
            assert status == 408, (what, body)
            assert headers["content-type"] == PROBLEM and headers["connection"] == "close"
            doc = json.loads(body)
            assert ("body" if "body" in what else "headers") in doc["detail"], (what, doc)
            assert await reader.read() == b"", what  # closed
        finally:
            writer.close()


async def test_a_body_trickled_within_its_pauses_gets_408_at_its_whole_deadline(
    monkeypatch: pytest.MonkeyPatch, wire: int, harness: Harness
) -> None:
    # A byte every 0.1 s never pauses long enough for the pause deadline (10 min here), and
    # the 10 KB declared would take 17 min: only the whole body's deadline (1 s) ends it.
    monkeypatch.setenv("HTTP_BODY_TIMEOUT_S", "600")
    monkeypatch.setenv("HTTP_BODY_DEADLINE_S", "1")
    http_limits.cache_clear()
    key = harness.key("DISPUTEDESK_KEY_MARKETPLACE")["Authorization"].encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", wire)

    async def trickle() -> None:
        writer.write(
            b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nAuthorization: " + key + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"
        )
        try:
            while not writer.is_closing():
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.1)
        except ConnectionError:  # the server closed the connection after its answer
            return

    sending = asyncio.create_task(trickle())
    try:
        status, headers, body = await asyncio.wait_for(_response(reader), 60)
        assert status == 408, body
        assert headers["content-type"] == PROBLEM and headers["connection"] == "close"
        assert "did not arrive whole within 1 s" in json.loads(body)["detail"]
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()
        monkeypatch.undo()
        http_limits.cache_clear()


async def test_expect_100_continue_without_a_key_is_refused_before_the_body_is_asked_for(
    wire: int,
) -> None:
    # The server sends "100 Continue" when the app first reads the body; answering who is
    # asking first means an anonymous client is never invited to send it.
    request = (
        b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    )
    status, headers, body = await _exchange(wire, request)
    assert status == 401, body
    assert headers["content-type"] == PROBLEM


async def test_http_1_0_needs_no_host(wire: int) -> None:
    status, _, body = await _exchange(wire, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status == 200, body


def test_every_way_we_run_uvicorn_names_the_protocol() -> None:
    command = ServiceSpec("fraud", 8003).command()
    assert command[command.index("--http") + 1] == HTTP_PROTOCOL
    assert "--no-access-log" in command  # a line per request, as `serve` has none either
    with mock.patch("uvicorn.run") as run:
        cli.serve("fraud")
    assert run.call_args.kwargs["http"] == HTTP_PROTOCOL
    assert run.call_args.kwargs["access_log"] is False
    # X-Forwarded-For only from proxies FORWARDED_ALLOW_IPS names (test_hostile_forwarded.py).
    assert run.call_args.kwargs["proxy_headers"] is ("FORWARDED_ALLOW_IPS" in os.environ)
    assert ("--no-proxy-headers" in command) is ("FORWARDED_ALLOW_IPS" not in os.environ)
    assert issubclass(import_from_string(HTTP_PROTOCOL), HttpToolsProtocol)


async def test_head_is_answered_as_get_on_the_wire(wire: int, harness: Harness) -> None:
    """RFC 9110 §9.3.2: a server answers HEAD as it answers GET, without the content. Every
    GET of ours answered HEAD 405 (`Allow: GET`), `/healthz` included, which a monitor or a
    proxy may check with HEAD."""
    key = harness.key(DUTY_KEYS[Role.OPS_AGENT])["Authorization"].encode()
    for target, auth in ((b"/healthz", b""), (b"/v1/escalations?limit=1", key)):
        get = b"GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n" % (target, auth)
        status, headers, body = await _exchange(wire, get)
        assert status == 200, body
        reader, writer = await asyncio.open_connection("127.0.0.1", wire)
        try:
            writer.write(b"HEAD" + get[3:])
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(get)  # the same connection goes on: no body was left in it
            await writer.drain()
            after, _, _ = await _response(reader)
        finally:
            writer.close()
        lines = head.decode("latin-1").split("\r\n")
        fields = {
            k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
        }
        assert int(lines[0].split()[1]) == 200, (target, head)
        assert fields["content-type"] == headers["content-type"], (target, fields)
        assert after == 200, target


# --- every route of the four route tables ---------------------------------------------------

ROUTES = [
    (name, r)
    for name, app in service_apps().items()
    for r in route_access(app)
    if r.authenticated and r.roles
]


def _route_id(item: tuple[str, RouteAccess]) -> str:
    return f"{item[0]} {item[1].method} {item[1].path}"


def _key(harness: Harness, route: RouteAccess) -> dict[str, str]:
    """A key holding one of the route's duties: every check after the role's is attacked."""
    return harness.key(DUTY_KEYS[Role(sorted(route.roles or ())[0])])


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


# A problem type's title, as first seen: RFC 9457 has a type keep one title, whoever answers.
TITLES: dict[str, str] = {}


def assert_refused(r: httpx.Response, allowed: set[int], what: str) -> dict[str, Any]:
    assert r.status_code in allowed, (what, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM), (what, r.headers, r.text[:300])
    doc: dict[str, Any] = r.json()
    assert doc["status"] == r.status_code and doc["title"], (what, doc)
    assert TITLES.setdefault(doc["type"], doc["title"]) == doc["title"], (what, doc, TITLES)
    return doc


# Path values no id of ours takes: bytes that are not UTF-8, a "/" inside the id, a dot
# segment (percent-encoded: httpx would resolve a raw one before sending), an overlong id,
# numbers past any column.
ODD_IDS = {
    "%ff": 422,
    "%C3%28": 422,
    "%2F": 404,
    "%2E%2E": None,
    "x" * 600: None,
    "1e999": None,
    "-1": None,
    "9" * 30: None,
    "%F0%9F%98%80": None,
}


ROUTES_WITH_IDS = [x for x in ROUTES if "{" in x[1].path]


@pytest.mark.parametrize(
    "service, route", ROUTES_WITH_IDS, ids=[_route_id(x) for x in ROUTES_WITH_IDS]
)
async def test_odd_path_ids_are_refused(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    client = pipeline[service].client
    for value, status in ODD_IDS.items():
        r = await client.request(
            route.method, _fill(route.path, value), headers=_key(harness, route), json={}
        )
        doc = assert_refused(r, {status} if status else {404, 422}, value[:20])
        if r.status_code == 422 and value.startswith("%") and status:
            assert any(e["field"].startswith("path.") for e in doc["errors"]), doc


# Well-formed values that name nothing, by parameter, where an opaque string would not do.
NOTHING = {
    "month": "2031-01",
    "entity_type": "seller",
    "entry_id": "987654321",
    # The template catalogue is fixed when notifications is built (an enum in its document):
    # a well-formed name names a template, any other is a bad parameter (422).
    "name": "acknowledgement",
}
# A read whose id names nothing that still answers 200, and why.
ANSWERS_FOR_ANY_ID = {
    # An entity fraud has never seen has a risk too: LOW, without reasons.
    ("fraud", "/v1/risk/{entity_type}/{entity_id}"),
    # A partner's own statement of a month without postings is a statement of zeros: its key
    # names the partner, which the path does not.
    ("reconciliation", "/v1/partner/statements/{month}"),
    # Every name the document allows is a template of the catalogue (`NOTHING`).
    ("notifications", "/v1/templates/{name}/preview"),
}


def _nothing(path: str) -> str:
    def value(m: re.Match[str]) -> str:
        return NOTHING.get(m.group(1), str(uuid.uuid4()))

    return re.sub(r"\{([^}]+)\}", value, path)


def _methods_by_path() -> list[tuple[str, str, frozenset[str]]]:
    """Each path of a service, with every method a request to it reaches: its own routes' and
    those of routes whose pattern takes it too (`/v1/suppressions/lookup` is also an
    `/v1/suppressions/{address_hash}`)."""
    out = []
    for name, app in service_apps().items():
        routes = route_access(app)
        for path in dict.fromkeys(r.path for r in routes if r.path.startswith("/v1/")):
            url = _nothing(path).split("?")[0]
            reached = {r.method for r in routes if r.route.path_regex.match(url)}
            out.append((name, path, frozenset(reached)))
    return out


PATHS = _methods_by_path()


@pytest.mark.parametrize("service, path, methods", PATHS, ids=[f"{s} {p}" for s, p, _ in PATHS])
async def test_a_method_the_path_does_not_take_is_answered_405_naming_every_one_it_does(
    pipeline: dict[str, RunningService], service: str, path: str, methods: frozenset[str]
) -> None:
    """RFC 9110 §15.5.6: a 405 lists the methods the resource supports. The first route of a
    path answered with its own alone (`Allow: GET` where the path also takes POST), and never
    HEAD, which every GET answers."""
    other = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in methods)
    r = await pipeline[service].client.request(other, _nothing(path))
    assert r.status_code == 405, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed == set(methods) | ({"HEAD"} if "GET" in methods else set()), r.headers


# Reads by id, less those answering for any id and those whose query names what they read (a
# period: refused as 422 without one, which the query tests cover).
READS_BY_ID = [
    (service, route)
    for service, route in ROUTES_WITH_IDS
    if route.method == "GET"
    and (service, route.path) not in ANSWERS_FOR_ANY_ID
    and not any(p.field_info.is_required() for p in route.route.dependant.query_params)
]


def test_every_exemption_names_a_route() -> None:
    """An exemption outliving its route would hide nothing, but would no longer say anything."""
    assert ANSWERS_FOR_ANY_ID <= {(service, route.path) for service, route in ROUTES}


@pytest.mark.parametrize("service, route", READS_BY_ID, ids=[_route_id(x) for x in READS_BY_ID])
async def test_a_read_of_an_id_that_names_nothing_answers_404(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    client = pipeline[service].client
    r = await client.get(_nothing(route.path), headers=_key(harness, route))
    assert_refused(r, {404}, "an id that names nothing")


READS = [
    (name, r)
    for name, app in service_apps().items()
    for r in route_access(app)
    if r.method == "GET"
]


@pytest.mark.parametrize("service, route", READS, ids=[_route_id(x) for x in READS])
async def test_every_read_answers_head_as_its_get(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    client = pipeline[service].client
    headers = _key(harness, route) if route.roles else {}
    url = _nothing(route.path)
    get = await client.get(url, headers=headers)
    head = await client.head(url, headers=headers)
    assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
    assert head.headers["content-type"] == get.headers["content-type"], url


# Digits of other scripts, where a month or a number is written in ASCII ones: `\\d` in a
# pattern and Python's int() take them.
FOREIGN_DIGITS = {"Arabic-Indic": "٠١٢٣٤٥٦٧٨٩", "fullwidth": "０１２３４５６７８９"}
NUMBERED = [
    (service, route, name)
    for service, route in ROUTES_WITH_IDS
    for name in re.findall(r"\{([^}]+)\}", route.path)
    if any(c.isdigit() for c in NOTHING.get(name, ""))
]


@pytest.mark.parametrize(
    "service, route, name", NUMBERED, ids=[f"{_route_id(x[:2])} {x[2]}" for x in NUMBERED]
)
async def test_digits_of_another_script_answer_422_naming_the_field(
    harness: Harness,
    pipeline: dict[str, RunningService],
    service: str,
    route: RouteAccess,
    name: str,
) -> None:
    client = pipeline[service].client
    for script, digits in FOREIGN_DIGITS.items():
        value = NOTHING[name].translate(str.maketrans("0123456789", digits))
        path = _nothing(route.path.replace("{" + name + "}", value))
        r = await client.request(route.method, path, headers=_key(harness, route), json={})
        doc = assert_refused(r, {422}, script)
        assert f"path.{name}" in [e["field"] for e in doc["errors"]], (script, doc)


# Bodies that are not the JSON object a route takes, each as (content type, bytes).
BAD_BODIES = {
    "no content type": (None, b'{"a": 1}'),
    "text/plain": ("text/plain", b'{"a": 1}'),
    "a form": ("application/x-www-form-urlencoded", b"a=1&b=2"),
    "broken multipart": ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
    "an array": ("application/json", b"[]"),
    "null": ("application/json", b"null"),
    "a string": ("application/json", b'"{}"'),
    "a huge number": ("application/json", b"1e999"),
    "empty": ("application/json", b""),
    "truncated": ("application/json", b'{"reason": "abc'),
    "bytes that are not UTF-8": ("application/json", b'{"reason": "\xff\xfe"}'),
    "nested deeper than a parser goes": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "a number of 5000 digits": ("application/json", b'{"a": ' + b"9" * 5000 + b"}"),
    # Which one is meant? A parser keeps the last silently; a proxy or a log may read the first.
    "a key twice": ("application/json", b'{"reason": "a", "reason": "b"}'),
    "a key twice, nested": ("application/json", b'{"a": [{"b": 1, "b": 2}]}'),
    # The repeated key is met before the syntax error: malformed is what the body is.
    "a key twice, then broken": ("application/json", b'{"a": {"b": 1, "b": 2}, "c": '),
}


@pytest.mark.parametrize(
    "service, route",
    [x for x in ROUTES if x[1].route.dependant.body_params],
    ids=[_route_id(x) for x in ROUTES if x[1].route.dependant.body_params],
)
async def test_a_body_that_is_not_the_json_object_asked_for_is_refused(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    client = pipeline[service].client
    path = _nothing(route.path)
    for what, (content_type, body) in BAD_BODIES.items():
        headers = _key(harness, route)
        if content_type:
            headers["content-type"] = content_type
        r = await client.request(route.method, path, headers=headers, content=body)
        doc = assert_refused(r, {400, 415, 422}, what)
        if what in ("no content type", "text/plain", "a form", "broken multipart"):
            # The header is what the client got wrong: answered "not a valid dictionary" (422).
            assert r.status_code == 415, (what, r.status_code, doc)
            assert [e["field"] for e in doc["errors"]] == ["header.Content-Type"], doc
        if what in ("bytes that are not UTF-8", "nested deeper than a parser goes"):
            assert [e["field"] for e in doc["errors"]] == ["body"], doc
            assert ("UTF-8" if "UTF-8" in what else "nested") in doc["detail"], doc
        if what == "a key twice":
            assert doc["errors"] == [
                {
                    "field": "body.reason",
                    "message": "the key 'reason' appears twice in one object; send it once",
                }
            ], doc
        if what == "a key twice, nested":
            assert [e["field"] for e in doc["errors"]] == ["body.a.0.b"], doc
        if what == "a key twice, then broken":
            assert "twice" not in json.dumps(doc), doc


# Query values no filter or page takes.
ODD_QUERY_VALUES = ["%ff", "-1", "1e999", "9" * 30, "x" * 2000, "2026-01-01T00:00:00"]


@pytest.mark.parametrize(
    "service, route",
    [x for x in ROUTES if x[1].route.dependant.query_params],
    ids=[_route_id(x) for x in ROUTES if x[1].route.dependant.query_params],
)
async def test_odd_query_values_never_fail_the_service(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    client = pipeline[service].client
    path = _nothing(route.path)
    for param in route.route.dependant.query_params:
        for value in ODD_QUERY_VALUES:
            url = f"{path}?{param.alias}={value}"
            r = await client.request(route.method, url, headers=_key(harness, route), json={})
            if value == "%ff":
                doc = assert_refused(r, {422}, url[:80])
                assert f"query.{param.alias}" in [e["field"] for e in doc["errors"]], doc
            elif r.status_code >= 400:
                assert_refused(r, {400, 404, 409, 422}, url[:80])


@pytest.mark.parametrize("service, route", ROUTES, ids=[_route_id(x) for x in ROUTES])
async def test_a_query_parameter_the_route_does_not_take_answers_422_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    # A misspelt filter dropped silently would answer as if it had been applied.
    client = pipeline[service].client
    url = f"{_nothing(route.path)}?stat%C3%A9=OPEN&at=2026-01-01"
    r = await client.request(route.method, url, headers=_key(harness, route), json={})
    doc = assert_refused(r, {422}, url)
    assert [e["field"] for e in doc["errors"]] == ["query.at", "query.staté"], doc


# Bodies whose refusal would tell an anonymous caller how we validate: who is asking is
# answered first, before any of them is read.
PROBING_BODIES = {
    "an empty object": b"{}",
    "malformed": b'{"reason": ',
    "a key twice": b'{"reason": "a", "reason": "b"}',
    "UTF-16": '{"reason": "a"}'.encode("utf-16"),
}


@pytest.mark.parametrize("service, route", ROUTES, ids=[_route_id(x) for x in ROUTES])
async def test_no_key_or_a_forged_key_answers_401_whatever_the_body(
    pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    # From an address of its own: failed authentications are throttled per address, and this
    # one's must not throttle the rest of the session.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    transport = httpx.ASGITransport(app=pipeline[service].app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hostile.test") as client:
        for headers in ({}, {"Authorization": "Bearer ddk_forged"}, {"Authorization": "Basic x"}):
            for what, body in PROBING_BODIES.items():
                r = await client.request(
                    route.method,
                    _nothing(route.path),
                    headers={**headers, "content-type": "application/json"},
                    content=body,
                )
                assert_refused(r, {401}, f"{headers} {what}")


async def test_a_revoked_key_answers_401_from_every_service_at_once(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    # Rotation without restarts: the keyring is read again when its file changes.
    key = add_key(harness.env, f"leaver.{uuid.uuid4().hex[:6]}", [Role.OPS_MANAGER])
    reads = {
        "intake": "/v1/escalations",
        "fraud": "/v1/alerts",
        "reconciliation": "/v1/cases",
        "notifications": "/v1/templates",
    }
    for service, path in reads.items():
        r = await pipeline[service].client.get(path, headers=key)
        assert r.status_code == 200, (service, r.text)
    revoke_key(harness.env, key)
    for service, path in reads.items():
        r = await pipeline[service].client.get(path, headers=key)
        doc = assert_refused(r, {401}, service)
        assert doc["detail"] == "Unknown, revoked or expired API key.", doc


async def test_a_key_past_its_not_after_answers_401_from_every_service(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """A key issued for a while (a contractor, a partner's trial) ends by itself: once its
    `not_after` has passed every service answers 401, as for an unknown key; a key whose end is
    still ahead works, and an end that is not an instant with an offset ends the key now."""
    now = datetime.now(UTC)
    ended = add_key(harness.env, f"temp.{uuid.uuid4().hex[:6]}", [Role.OPS_MANAGER], not_after=now)
    ahead = add_key(
        harness.env,
        f"temp.{uuid.uuid4().hex[:6]}",
        [Role.OPS_MANAGER],
        not_after=now + timedelta(hours=1),
    )
    naive = add_key(
        harness.env,
        f"temp.{uuid.uuid4().hex[:6]}",
        [Role.OPS_MANAGER],
        not_after="2099-01-01T00:00:00",
    )
    reads = {
        "intake": "/v1/escalations",
        "fraud": "/v1/alerts",
        "reconciliation": "/v1/cases",
        "notifications": "/v1/templates",
    }
    for service, path in reads.items():
        r = await pipeline[service].client.get(path, headers=ahead)
        assert r.status_code == 200, (service, r.text)
        for key in (ended, naive):
            r = await pipeline[service].client.get(path, headers=key)
            doc = assert_refused(r, {401}, service)
            assert doc["detail"] == "Unknown, revoked or expired API key.", doc


@pytest.mark.parametrize("service, route", ROUTES, ids=[_route_id(x) for x in ROUTES])
async def test_a_key_without_the_duty_answers_403_whatever_the_body(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    other = next(role for role in DUTY_KEYS if role not in (route.roles or ()))
    client = pipeline[service].client
    for what, body in PROBING_BODIES.items():
        headers = {**harness.key(DUTY_KEYS[other]), "content-type": "application/json"}
        r = await client.request(route.method, _nothing(route.path), headers=headers, content=body)
        assert_refused(r, {403}, f"{other} {what}")


def _check(route: RouteAccess, flag: str) -> bool:
    return any(
        isinstance(dep.call, RoleCheck) and getattr(dep.call, flag, False)
        for dep in walk_dependencies(route.route.dependant)
    )


def _team_work(route: RouteAccess) -> bool:
    """A team's own work, or a POST that only reads (refused or not as a read, below)."""
    return _check(route, "team_work") or _check(route, "reads")


TEAM_BOUND = [x for x in ROUTES if x[1].mutating and not _team_work(x[1])]
READING_POSTS = [x for x in ROUTES if x[1].mutating and _check(x[1], "reads")]
READS = [x for x in ROUTES if not x[1].mutating or _check(x[1], "reads")]
TEAM_READS = [x for x in READS if _check(x[1], "team_reads")]


def test_the_posts_that_only_read_are_named() -> None:
    assert sorted(route.path for _, route in READING_POSTS) == [
        "/v1/policies/{version}/what-if",
        "/v1/suppressions/lookup",
    ]


def test_the_reads_open_to_a_key_bound_to_a_team_are_named() -> None:
    """Every other read refuses such a key: a new read is closed to the teams until it scopes
    its answer to the team (its cases, its tasks, its row) and is added here."""
    assert sorted(f"{s} {r.path}" for s, r in TEAM_READS) == [
        "notifications /v1/templates",
        "notifications /v1/templates/{name}/preview",
        "reconciliation /v1/cases",
        "reconciliation /v1/cases/counts",
        "reconciliation /v1/cases/{case_id}",
        "reconciliation /v1/cases/{case_id}/report",
        "reconciliation /v1/cases/{case_id}/tasks",
        "reconciliation /v1/policies",
        "reconciliation /v1/policies/changes",
        "reconciliation /v1/policies/{version}",
        "reconciliation /v1/tasks",
        "reconciliation /v1/tasks/metrics",
    ]


@pytest.mark.parametrize("service, route", READS, ids=[_route_id(x) for x in READS])
async def test_a_key_bound_to_a_team_reads_only_what_is_scoped_to_its_team(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    """A key holding the route's own roles but bound to a team (a person of the warehouse)
    reads its team's share: a read that scopes its answer to the team answers it (an unknown id
    404, never 403), every other read of the four services (fraud's alerts, the sellers'
    emails, the ledger, the KPIs, a what-if over every team's cases, another seller's
    directory entry) answers 403 problem+json naming the team. Before, such a key read
    everything its roles could."""
    roles = sorted(route.roles or ())
    headers = add_key(harness.env, f"warehouse.{uuid.uuid4().hex[:8]}", roles, team="warehouse")
    r = await pipeline[service].client.request(
        route.method,
        _nothing(route.path),
        headers={**headers, "content-type": "application/json"},
        content=b"{}" if route.mutating else None,
    )
    if route in [x[1] for x in TEAM_READS]:
        assert r.status_code in (200, 404, 422), r.text
        if r.status_code != 200:
            assert_refused(r, {404, 422}, "a scoped read")
    else:
        doc = assert_refused(r, {403}, "a read of the desk's")
        assert "warehouse" in doc["detail"], doc


@pytest.mark.parametrize("service, route", TEAM_BOUND, ids=[_route_id(x) for x in TEAM_BOUND])
async def test_a_key_bound_to_a_team_changes_nothing_outside_its_teams_work(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    """A key holding the route's own roles but bound to a team (a person of the warehouse) is
    refused on every changing route of the four services that is not a team's task work,
    whatever the body, before the body is read."""
    client = pipeline[service].client
    roles = sorted(route.roles or ())
    headers = add_key(harness.env, f"warehouse.{uuid.uuid4().hex[:8]}", roles, team="warehouse")
    for what, body in PROBING_BODIES.items():
        r = await client.request(
            route.method,
            _nothing(route.path),
            headers={**headers, "content-type": "application/json"},
            content=body,
        )
        doc = assert_refused(r, {403}, what)
        assert "warehouse" in doc["detail"], doc


CHARSETS = {
    "UTF-16 without a charset": (
        "application/json",
        '{"reason": "a"}'.encode("utf-16"),
        "UTF-16",
    ),
    "UTF-32 without a BOM": (
        "application/json",
        '{"reason": "a"}'.encode("utf-32-le"),
        "UTF-32",
    ),
    "charset=utf-16": (
        "application/json; charset=utf-16",
        '{"reason": "a"}'.encode("utf-16"),
        "utf-16",
    ),
    "charset=iso-8859-1, ASCII bytes": (
        "application/json; charset=iso-8859-1",
        b'{"reason": "a"}',
        "iso-8859-1",
    ),
}


@pytest.mark.parametrize(
    "service, route",
    [x for x in ROUTES if x[1].route.dependant.body_params],
    ids=[_route_id(x) for x in ROUTES if x[1].route.dependant.body_params],
)
async def test_json_in_another_charset_answers_415_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], service: str, route: RouteAccess
) -> None:
    client = pipeline[service].client
    for what, (content_type, body, named) in CHARSETS.items():
        headers = {**_key(harness, route), "content-type": content_type}
        r = await client.request(route.method, _nothing(route.path), headers=headers, content=body)
        doc = assert_refused(r, {415}, what)
        assert named in doc["detail"], (what, doc)
    # UTF-8 declared as such is what JSON is: the route goes on to its own checks.
    headers = {**_key(harness, route), "content-type": "application/json; charset=UTF-8"}
    r = await client.request(route.method, _nothing(route.path), headers=headers, content=b"{}")
    assert r.status_code != 415, r.text


async def test_a_forged_host_never_comes_back_as_the_next_page(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    client = pipeline["notifications"].client
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    for _ in range(2):
        body = {"address": f"{uuid.uuid4().hex}@example.com", "reason": "manual"}
        r = await client.post("/v1/suppressions", json=body, headers=manager)
        assert r.status_code == 201, r.text
    r = await client.get(
        "/v1/suppressions", params={"limit": 1}, headers={**manager, "Host": "evil.example"}
    )
    assert r.status_code == 200 and r.json()["next"], r.text
    link = r.headers["link"]
    assert link.startswith("</v1/suppressions?") and "evil.example" not in link, link


# --- the desk console -----------------------------------------------------------------------


@pytest.fixture
async def console(
    harness: Harness, pipeline: dict[str, RunningService]
) -> AsyncIterator[httpx.AsyncClient]:
    apps = {name: svc.app for name, svc in pipeline.items()}
    async with console_client(
        apps, harness.env["DISPUTEDESK_KEYRING_FILE"], base_url="http://console.test"
    ) as client:
        yield client


CONSOLE_REFUSALS = [
    ("GET", "/no-such-page", {}, 404),
    ("GET", "/static/..%2Fapp.py", {}, 404),
    ("DELETE", "/", {}, 405),
    ("PUT", "/sign-in", {}, 405),
    ("GET", "/sign-in?expired=often", {}, 422),
    # More fields than the form parser reads, before any CSRF or key check.
    ("POST", "/sign-in", {"data": {f"f{i}": "x" for i in range(1001)}}, 400),
]


async def test_the_console_answers_head_as_get(console: httpx.AsyncClient) -> None:
    for url in ("/sign-in", "/healthz", "/no-such-page"):
        get, head = await console.get(url), await console.head(url)
        assert head.status_code == get.status_code, (url, head.status_code, get.status_code)


@pytest.mark.parametrize("method, url, kw, status", CONSOLE_REFUSALS)
async def test_the_console_refuses_with_its_own_error_page(
    console: httpx.AsyncClient, method: str, url: str, kw: dict[str, Any], status: int
) -> None:
    r = await console.request(method, url, **kw)
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert 'data-testid="problem"' in r.text
    assert r.headers["content-security-policy"]  # the page keeps the console's headers


async def test_the_console_reads_no_body_over_its_limit(console: httpx.AsyncClient) -> None:
    # A thousand fields of a megabyte would each pass the form parser's own limits.
    form = b"&".join(b"f%d=%s" % (i, b"x" * 1000) for i in range(1100))
    # Asked as a JSON client: a browser gets the console's error page (test_hostile_console_
    # request_layer), a client weighing JSON above HTML the problem document.
    r = await console.post(
        "/sign-in",
        content=form,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "accept": "application/json",
        },
    )
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"].startswith(PROBLEM)
