"""A header that decides who calls, what the body is or which request this is, sent twice,
answers 400 problem+json naming it on every service and the console, before anything reads
either copy (shared/request_path.py); two credentials in two headers answer 401."""

from __future__ import annotations

import gzip
from functools import cache

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from services.console.app import create_app as create_console
from shared.problems import problem_bytes
from shared.request_path import SINGLETON_HEADERS, ServiceRequests
from tests.support.routes import service_apps

VALUES = {
    "authorization": ("Bearer dd_test_one", "Bearer dd_test_two"),
    "content-type": ("application/json", "text/plain"),
    "content-encoding": ("identity", "identity"),
}


@cache
def _apps() -> dict[str, object]:
    return {**service_apps(), "console": create_console()}


SERVICES = ["intake", "fraud", "reconciliation", "notifications", "console"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("header", sorted(SINGLETON_HEADERS.values()))
async def test_a_deciding_header_sent_twice_is_refused_naming_it(service: str, header: str) -> None:
    app = _apps()[service]
    first, second = VALUES.get(header.lower(), ("a1", "b2"))
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    # A JSON client: the console writes its error page for a browser instead
    # (tests/integration/test_hostile_console_request_layer.py).
    headers = [(header, first), (header, second), ("Accept", "application/json")]
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.post("/v1/anything", headers=headers, content=b"{}")
    assert r.status_code == 400, (service, header, r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert r.content == problem_bytes(doc)
    assert doc["errors"] == [{"field": f"header.{header}", "message": "sent more than once"}]
    assert header in doc["detail"]


async def test_one_of_each_passes_the_layer() -> None:
    reached: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(list(scope["headers"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=ServiceRequests(app, service="intake"))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        headers = [
            (name, VALUES.get(name.lower(), ("v",))[0]) for name in SINGLETON_HEADERS.values()
        ]
        r = await client.post(
            "/v1/escalations", headers=headers + [("Accept", "a"), ("Accept", "b")]
        )
    assert r.status_code == 204 and len(reached) == 1


@pytest.mark.parametrize("service", SERVICES[:4])
async def test_two_credentials_in_two_headers_are_refused(service: str) -> None:
    transport = httpx.ASGITransport(app=_apps()[service])  # type: ignore[arg-type]
    path = {"intake": "/v1/escalations", "fraud": "/v1/alerts"}.get(service, "/v1/messages")
    if service == "reconciliation":
        path = "/v1/cases"
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.get(
            path, headers={"Authorization": "Bearer dd_test_one", "X-Api-Key": "dd_test_two"}
        )
    assert r.status_code == 401, (service, r.status_code, r.text[:200])
    assert "X-Api-Key" in r.json()["detail"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "GZIP", "gzip, identity"])
async def test_a_compressed_body_is_refused_naming_the_coding(service: str, coding: str) -> None:
    """No route decodes a compressed body: it was read as it stood (gzip's bytes "not UTF-8",
    a plain body labelled gzip taken as if unlabelled)."""
    transport = httpx.ASGITransport(app=_apps()[service])  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.post(
            "/v1/escalations",
            headers={
                "Content-Type": "application/json",
                "Content-Encoding": coding,
                "Accept": "application/json",  # the console's browser gets its error page
            },
            content=gzip.compress(b'{"return_id": "RET-1"}'),
        )
    assert r.status_code == 415, (service, coding, r.status_code, r.text[:200])
    assert r.headers["accept-encoding"] == "identity"
    doc = r.json()
    assert r.content == problem_bytes(doc)
    assert doc["errors"][0]["field"] == "header.Content-Encoding"


async def test_identity_passes_the_layer() -> None:
    reached: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(1)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=ServiceRequests(app, service="intake"))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.post("/v1/x", headers={"Content-Encoding": "identity"}, content=b"{}")
    assert r.status_code == 204 and reached == [1]


async def _reached_with(method: str, headers: dict[str, str], content: object = None) -> int:
    """The status of one request through the layer alone, 204 when it reached the app."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=ServiceRequests(app, service="intake"))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.request(method, "/v1/x", headers=headers, content=content)  # type: ignore[arg-type]
    return r.status_code


@pytest.mark.parametrize("coding", ["", "identity, ", ", identity", "Identity,,identity", " "])
async def test_a_list_naming_only_identity_passes_the_layer(coding: str) -> None:
    # Content-Encoding is a list (RFC 9110 §8.4) whose empty elements are ignored (§5.6.1.2):
    # "identity, " was refused 415 as if it named a coding.
    assert await _reached_with("POST", {"Content-Encoding": coding}, b"{}") == 204


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "POST"])
async def test_a_coding_on_a_request_without_content_is_ignored(method: str) -> None:
    # No content, nothing in an unsupported format (RFC 9110 §15.5.16): a bodiless GET carrying
    # Content-Encoding: gzip answered 415.
    headers = {"Content-Encoding": "gzip"}
    if method == "POST":
        headers["Content-Length"] = "0"
    assert await _reached_with(method, headers) == 204


async def test_a_chunked_body_with_a_coding_is_refused() -> None:
    async def chunks() -> object:
        yield gzip.compress(b"{}")

    assert await _reached_with("POST", {"Content-Encoding": "gzip"}, chunks()) == 415
