"""The console's refusals made before any page runs (the shared request layer's: a URL with a
control character, a body over the limit, a deciding header sent twice or holding a non-ASCII
character, a compressed body) answer as its pages' refusals do: the error page to a browser,
problem+json to a client weighing JSON above HTML, and both with the console's security headers
(docs/console.md, "When the console itself refuses").

Found by the hostile client (round ten): each came back as problem+json to a browser (a person
who posted a long note saw a JSON document), and without the Content-Security-Policy,
`X-Content-Type-Options`, `X-Frame-Options` and `Cache-Control: no-store` every other answer of
the console carries, since the security headers were added inside the request layer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Harness
from tests.support.console import console_client

PROBLEM = "application/problem+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON_FIRST = "application/json, text/html;q=0.5"
OVER_LIMIT = b"note=" + b"x" * (1024 * 1024 + 1)
SCRIPT = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Refused:
    name: str
    method: str
    url: str
    status: int
    field: str | None
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes | None = None
    chunked: bool = False


REFUSALS = [
    Refused("a control character in a query value", "GET", "/reports?start=2026%01", 422,
            "query.start"),
    Refused("a control character in a query name holding markup", "GET",
            "/reports?%3Cscript%3Ealert(1)%3C%2Fscript%3E=%07", 422, f"query.{SCRIPT}"),
    Refused("a control character in a path segment", "GET", "/cases/C-%00", 422, None),
    Refused("a body over the limit, its length declared", "POST", "/sign-in", 413, None,
            ((b"content-type", b"application/x-www-form-urlencoded"),), OVER_LIMIT),
    Refused("a body over the limit, chunked", "POST", "/sign-in", 413, None,
            ((b"content-type", b"application/x-www-form-urlencoded"),), OVER_LIMIT, True),
    Refused("Content-Type twice", "POST", "/sign-in", 400, "header.Content-Type",
            ((b"content-type", b"application/x-www-form-urlencoded"),
             (b"content-type", b"application/json")), b"key=x"),
    Refused("U+202E in Idempotency-Key", "GET", "/reports", 422, "header.Idempotency-Key",
            ((b"idempotency-key", "a\u202eb".encode()),)),
    Refused("a gzip body", "POST", "/sign-in", 415, "header.Content-Encoding",
            ((b"content-type", b"application/x-www-form-urlencoded"),
             (b"content-encoding", b"gzip")), b"key=x"),
]  # fmt: skip


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    # No service is asked: every refusal here is made before any page runs.
    async with console_client({}, harness.env["DISPUTEDESK_KEYRING_FILE"]) as client:
        yield client


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for at in range(0, len(body), 64 * 1024):
        yield body[at : at + 64 * 1024]


async def _send(client: httpx.AsyncClient, refused: Refused, accept: str) -> httpx.Response:
    content: bytes | AsyncIterator[bytes] | None = refused.body
    if refused.chunked and refused.body is not None:
        content = _chunks(refused.body)
    headers = [(b"accept", accept.encode()), *refused.headers]
    request = client.build_request(refused.method, refused.url, content=content, headers=headers)
    return await client.send(request)


def _security_headers(r: httpx.Response, what: str) -> None:
    assert "default-src 'none'" in r.headers.get("content-security-policy", ""), (what, r.headers)
    assert r.headers.get("x-content-type-options") == "nosniff", (what, r.headers)
    assert r.headers.get("x-frame-options") == "DENY", (what, r.headers)
    assert r.headers.get("cache-control") == "no-store", (what, r.headers)


@pytest.mark.parametrize("refused", REFUSALS, ids=[r.name for r in REFUSALS])
async def test_a_browser_gets_the_error_page(client: httpx.AsyncClient, refused: Refused) -> None:
    for accept in (BROWSER, "*/*"):
        r = await _send(client, refused, accept)
        assert r.status_code == refused.status, (refused.name, accept, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), (refused.name, r.headers)
        assert 'data-testid="problem"' in r.text, (refused.name, r.text[:500])
        assert SCRIPT not in r.text, "a refused name was written into the page unescaped"
        _security_headers(r, refused.name)


@pytest.mark.parametrize("refused", REFUSALS, ids=[r.name for r in REFUSALS])
async def test_a_json_client_gets_the_problem_naming_the_field(
    client: httpx.AsyncClient, refused: Refused
) -> None:
    # A chunked body is counted as the page reads it, and a page refuses a client that takes no
    # HTML (406) before it reads the body: only a client that also takes HTML reaches the 413.
    accepts = (JSON_FIRST,) if refused.chunked else ("application/json", PROBLEM, JSON_FIRST)
    for accept in accepts:
        r = await _send(client, refused, accept)
        assert r.status_code == refused.status, (refused.name, accept, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith(PROBLEM), (refused.name, r.headers)
        doc = r.json()
        assert doc["status"] == refused.status and doc["title"] and doc["detail"], doc
        if refused.field is not None:
            assert refused.field in [e["field"] for e in doc.get("errors", [])], doc
        _security_headers(r, refused.name)
