"""A hostile client gets problem+json naming what is wrong, from every service, never a 500:
on the wire (requests uvicorn cannot parse, URLs and headers past their limits, served as
`disputedesk run` serves them) and over every route of the four route tables (odd path ids,
bodies of the wrong type and encoding, queries out of range), so a new route is attacked too.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from unittest import mock

import pytest
import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from disputedesk import cli
from disputedesk.stack.supervisor import ServiceSpec
from shared.http_protocol import HTTP_PROTOCOL, http_limits
from tests.support.services import RunningService

PROBLEM = "application/problem+json"


# --- on the wire ----------------------------------------------------------------------------


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


async def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
        }
        body = await reader.readexactly(int(headers["content-length"]))
        return int(lines[0].split()[1]), headers, body
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


def test_every_way_we_run_uvicorn_names_the_protocol() -> None:
    command = ServiceSpec("fraud", 8003).command()
    assert command[command.index("--http") + 1] == HTTP_PROTOCOL
    with mock.patch("uvicorn.run") as run:
        cli.serve("fraud")
    assert run.call_args.kwargs["http"] == HTTP_PROTOCOL
    assert issubclass(import_from_string(HTTP_PROTOCOL), HttpToolsProtocol)
