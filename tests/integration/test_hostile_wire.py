"""A hostile client over a real socket, as `disputedesk run` serves each process: uvicorn with
our HTTP protocol in front of the app. What the in-process tests send as ASGI scopes is sent
here as bytes, so that what uvicorn and its parser do to them first (merge, fold, reorder,
refuse) is part of what is tested: deciding headers sent twice, folded headers, the request
smuggling shapes, content codings, upgrades, odd methods and targets, pipelining and
`Expect: 100-continue`, with every answer problem+json, nothing stored twice, and the process
serving afterwards. Each conversation ends on the answer to a sentinel request sent behind the
case's bytes, or on the server closing (`tests.support.wire`), so an answer nobody asked for
still shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn

from services.console.app import create_app as create_console
from shared.http_protocol import HTTP_PROTOCOL
from shared.request_path import SINGLETON_HEADERS
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.services import RunningService
from tests.support.wire import Answer, conversation, read_answer

PROBLEM = "application/problem+json"
SERVICES = ["intake", "reconciliation", "fraud", "notifications", "console"]


@contextlib.asynccontextmanager
async def _served(app: Any) -> AsyncIterator[int]:
    """`app` behind a real uvicorn on a free port, with the protocol every process runs with."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        http=HTTP_PROTOCOL,
        lifespan="off",  # the pipeline's lifespan already runs the services' apps
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


# One server per process for the whole file, as in production, where one long-lived process takes
# every client's bytes: each case still ends by checking that the process serves afterwards.
# (Starting and stopping uvicorn for each of the ~200 cases cost about 0.2 s apiece.)
@pytest.fixture(scope="module", params=SERVICES)
async def port(
    request: pytest.FixtureRequest, pipeline: dict[str, RunningService]
) -> AsyncIterator[int]:
    app = create_console() if request.param == "console" else pipeline[request.param].app
    async with _served(app) as bound:
        yield bound


def _answered_by_app(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The content types of a refusal past the protocol: the console answers a client naming no
    `Accept` with its error page (its pages' refusals and its request layer's alike)."""
    if request.node.callspec.params["port"] == "console":
        return ("text/html", PROBLEM)
    return (PROBLEM,)


@pytest.fixture
async def intake(pipeline: dict[str, RunningService]) -> AsyncIterator[int]:
    async with _served(pipeline["intake"].app) as bound:
        yield bound


def _assert_problem(answer: Answer, status: int, named: str) -> dict[str, Any]:
    got, headers, body = answer
    assert got == status, (got, body[:300])
    assert headers["content-type"] == PROBLEM, headers
    doc: dict[str, Any] = json.loads(body)
    assert doc["status"] == status and doc["title"]
    assert named in json.dumps(doc), doc
    return doc


async def _healthy(port: int) -> None:
    answers = await conversation(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert [a[0] for a in answers] == [200]


# --- headers as uvicorn hands them over ------------------------------------------------------

VALUES = {
    "authorization": (b"Bearer dd_test_one", b"Bearer dd_test_two"),
    "content-type": (b"application/json", b"text/plain"),
    "content-encoding": (b"identity", b"identity"),
}


@pytest.mark.parametrize("header", sorted(SINGLETON_HEADERS.values()))
async def test_a_deciding_header_sent_twice_on_the_wire_is_refused_naming_it(
    port: int, header: str
) -> None:
    # uvicorn neither merges nor drops a repeated header: both copies reach the request layer,
    # whose 400 is the answer, whatever the order of the other headers.
    # A JSON client (the console writes a browser its error page: console.md).
    first, second = VALUES.get(header.lower(), (b"a1", b"b2"))
    name = header.encode()
    request = (
        b"POST /v1/anything HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"
        b"%s: %s\r\nX-Between: 1\r\n%s: %s\r\n"
        b"Content-Length: 2\r\n\r\n{}" % (name, first, name.lower(), second)
    )
    answers = await conversation(port, request)
    doc = _assert_problem(answers[0], 400, f"header.{header}")
    assert doc["errors"] == [{"field": f"header.{header}", "message": "sent more than once"}]
    await _healthy(port)


FOLDED = {
    # obs-fold (RFC 9112 §5.2): a server must refuse it or unfold it; the parser refuses it, so
    # no reader of ours ever sees half a key or a value joined from two lines.
    "a folded header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n",
    "a folded Authorization": b"GET /v1/cases HTTP/1.1\r\nHost: x\r\n"
    b"Authorization: Bearer\r\n dd_test_one\r\n\r\n",
    "a space before the colon": b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
    "a NUL in a value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "a lone CR in a value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
    "an empty header name": b"GET /healthz HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", FOLDED.values(), ids=list(FOLDED))
async def test_headers_no_reader_could_agree_on_are_refused_before_any_app(
    port: int, request_bytes: bytes
) -> None:
    answers = await conversation(port, request_bytes)
    assert len(answers) == 1
    _assert_problem(answers[0], 400, "not valid HTTP/1.1")
    assert answers[0][1]["connection"] == "close"
    await _healthy(port)


# --- request smuggling shapes ----------------------------------------------------------------

# Each is followed by a second request in the same write: were the framing read two ways, a
# front end and this server would disagree on where it starts. Here it is never answered.
SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
SMUGGLING = {
    "Content-Length and Transfer-Encoding": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "chunked then identity": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
    "chunked twice": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "chunked, chunked": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    "a length listed twice": b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}",
    "a signed length": b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}",
    "a length past any integer": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\n",
    "a chunk size past any integer": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
    "chunks ended by bare LF": b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n2\n{}\n0\n\n",
}


@pytest.mark.parametrize("request_bytes", SMUGGLING.values(), ids=list(SMUGGLING))
async def test_framing_read_two_ways_is_refused_and_nothing_behind_it_is_answered(
    port: int, request_bytes: bytes
) -> None:
    answers = await conversation(port, request_bytes + SMUGGLED)
    assert len(answers) == 1, [a[0] for a in answers]
    _assert_problem(answers[0], 400, "HTTP/1.1")
    assert answers[0][1]["connection"] == "close"
    await _healthy(port)


async def test_a_transfer_coding_we_do_not_decode_answers_501(port: int) -> None:
    request = b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
    answers = await conversation(port, request + SMUGGLED)
    assert len(answers) == 1
    _assert_problem(answers[0], 501, "xchunked")


# --- content codings -------------------------------------------------------------------------


async def test_content_codings_on_the_wire(port: int) -> None:
    def post(coding: bytes, body: bytes) -> bytes:
        return (
            b"POST /v1/anything HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Accept: application/json\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (coding, len(body), body)
        )

    compressed = gzip.compress(b"{}")
    [answer] = await conversation(port, post(b"gzip", compressed))
    _assert_problem(answer, 415, "header.Content-Encoding")
    assert answer[1]["accept-encoding"] == "identity"
    [answer] = await conversation(port, post(b", br", b"{}"))
    _assert_problem(answer, 415, "br")
    # A list of identity alone names no coding (empty elements are ignored): the request goes
    # on to routing, which knows no such address.
    [answer] = await conversation(port, post(b"identity, ", b"{}"))
    assert answer[0] == 404, answer
    # A request without content has nothing to decode: served, not 415.
    bodiless = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n\r\n"
    [answer] = await conversation(port, bodiless)
    assert answer[0] == 200, answer
    chunked = (
        b"POST /v1/anything HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        b"Accept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
        % (len(compressed), compressed)
    )
    [answer] = await conversation(port, chunked)
    _assert_problem(answer, 415, "gzip")


# --- methods, targets, upgrades --------------------------------------------------------------


# A second answer to one request would come from its own request cycle, right behind the first.
UPGRADE_QUIET_S = 0.5


async def test_a_websocket_upgrade_is_served_as_the_http_request_it_also_is(
    port: int, request: pytest.FixtureRequest
) -> None:
    # No route speaks WebSocket: upgraded, the request met no route and uvicorn answered a
    # plain-text 403. Upgrade is ignored instead (RFC 9110 §7.8).
    upgrade = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    # After a request asking to upgrade, the parser reads nothing more from the connection (it
    # stays in its upgrade state), so a sentinel would go unanswered until the keep-alive
    # timeout: the read ends on a short quiet after the answer instead.
    answers = await conversation(port, upgrade, quiet_s=UPGRADE_QUIET_S)
    assert [a[0] for a in answers] == [200], answers
    assert answers[0][1]["content-type"] == "application/json"
    upgrade = upgrade.replace(b"GET /healthz", b"GET /v1/nothing-here")
    [answer] = await conversation(port, upgrade, quiet_s=UPGRADE_QUIET_S)
    assert answer[0] == 404
    assert answer[1]["content-type"].startswith(_answered_by_app(request))
    await _healthy(port)


ODD = {
    "TRACE": (b"TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", {405}),
    "OPTIONS on a path": (b"OPTIONS /healthz HTTP/1.1\r\nHost: x\r\n\r\n", {405}),
    "OPTIONS *": (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", {404, 405}),
    "CONNECT": (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", {400}),
    "a target without a slash": (b"GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    "an HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400}),
    "a traversal": (b"GET /v1/../healthz HTTP/1.1\r\nHost: x\r\n\r\n", {404}),
    "an encoded traversal": (
        b"GET /v1/cases/..%2f..%2fhealthz HTTP/1.1\r\nHost: x\r\n\r\n",
        {401, 404},
    ),
    "a NUL in the path": (b"GET /v1/cases/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", {422}),
    "a query not UTF-8": (b"GET /healthz?a=%ff HTTP/1.1\r\nHost: x\r\n\r\n", {422}),
    "a broken escape": (b"GET /v1/cases/%zz?q=% HTTP/1.1\r\nHost: x\r\n\r\n", {401, 404}),
}


@pytest.mark.parametrize("request_bytes, statuses", ODD.values(), ids=list(ODD))
async def test_odd_methods_and_targets_answer_problem_json(
    port: int, request_bytes: bytes, statuses: set[int], request: pytest.FixtureRequest
) -> None:
    answers = await conversation(port, request_bytes)
    assert answers, "no answer"
    got, headers, body = answers[0]
    assert got < 500, (got, body[:300])
    if got == 400:  # the protocol's, before any app
        assert headers["content-type"] == PROBLEM, (headers, body[:200])
        return
    assert got in statuses or request.node.callspec.params["port"] == "console", (got, body[:300])
    assert headers["content-type"].startswith(_answered_by_app(request)), (headers, body[:200])
    if got == 405:
        assert headers["allow"]
    await _healthy(port)


async def test_http_1_0_is_answered_once_and_the_connection_closed(port: int) -> None:
    # HTTP/1.0 keeps no connection unless the answer says so (RFC 9112 §9.3); uvicorn does
    # not, so the request behind is never read, and its client knows to send it again.
    request = (
        b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /nothing HTTP/1.0\r\n\r\n"
    )
    answers = await conversation(port, request)
    assert [a[0] for a in answers] == [200]
    assert answers[0][1].get("connection", "close") != "keep-alive"
    await _healthy(port)


# --- nothing stored twice or lost ------------------------------------------------------------


def _return(return_id: str) -> bytes:
    initiated = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    return json.dumps(
        {
            "return_id": return_id,
            "order_id": uid("O"),
            "seller_id": uid("S"),
            "buyer_id": uid("B"),
            "category": "electronics",
            "item_value": 249900,
            "qc_required": True,
            "partner_id": "swiftship",
            "awb": uid("AWB"),
            "initiated_at": initiated,
        }
    ).encode()


def _post_return(key: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/returns HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
        b"Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
        % (key, extra, len(body), body)
    )


async def test_pipelined_writes_are_each_stored_once_and_answered_in_order(
    intake: int, harness: Harness
) -> None:
    key = harness.key("DISPUTEDESK_KEY_MARKETPLACE")["Authorization"].encode()
    first, second = uid("RET-W"), uid("RET-W")
    one, two = _return(first), _return(second)
    # One write: the same return twice around another, then a read.
    request = (
        _post_return(key, one)
        + _post_return(key, two)
        + _post_return(key, one)
        + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    answers = await conversation(intake, request)
    assert [a[0] for a in answers] == [202, 202, 202, 200], answers
    docs = [json.loads(a[2]) for a in answers[:3]]
    assert [d["return_id"] for d in docs] == [first, second, first]
    assert [d["duplicate"] for d in docs] == [False, False, True]
    assert docs[0]["event_id"] == docs[2]["event_id"] != docs[1]["event_id"]


async def test_expect_100_continue_with_a_key_stores_the_body_once(
    intake: int, harness: Harness
) -> None:
    key = harness.key("DISPUTEDESK_KEY_MARKETPLACE")["Authorization"].encode()
    return_id = uid("RET-X")
    body = _return(return_id)
    head, _, rest = _post_return(key, body, b"Expect: 100-continue\r\n").partition(b"\r\n\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", intake)
    try:
        writer.write(head + b"\r\n\r\n")
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        writer.write(rest)
        await writer.drain()
        status, _, answer = await asyncio.wait_for(read_answer(reader), timeout=10)
    finally:
        writer.close()
    assert status == 202, answer
    assert json.loads(answer)["duplicate"] is False
    # The same again, body sent at once without waiting: the one already stored is named.
    [again] = await conversation(intake, _post_return(key, body, b"Expect: 100-continue\r\n"))
    assert again[0] == 202 and json.loads(again[2])["duplicate"] is True
