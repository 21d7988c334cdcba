"""The shared request path (shared/request_path.py): what every service's HTTP request passes
before its route, kept cheap because every request of every service pays it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.types import Scope, Send

from shared import tracing
from shared.metrics import HTTP_REQUESTS
from shared.problems import Problem, install_problem_handlers
from shared.request_path import Headers, ServiceRequests

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
JSON = {"content-type": "application/json"}


def _app(service: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(ServiceRequests, service=service, max_bytes=64)

    @app.get("/ok")
    async def ok() -> dict[str, str | None]:
        return {"trace_id": tracing.current_trace_id()}

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @app.get("/refused")
    async def refused() -> None:
        raise Problem(409, "Conflict", "no")

    return app


async def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


class _NoSpans:
    def start_as_current_span(self, *_: object, **__: object) -> Iterator[None]:
        raise AssertionError("a span was made that nobody records")

    start_span = start_as_current_span


@pytest.fixture
def unrecorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """No exporter and no listener: any span the SDK made would be seen by nobody."""
    monkeypatch.setattr(tracing, "_LISTENERS", tracing._Listeners())
    monkeypatch.setattr(tracing, "_exporting", {})
    monkeypatch.setattr(tracing, "tracer", lambda service: _NoSpans())


async def test_an_unrecorded_request_makes_no_span_but_still_names_its_trace(
    unrecorded: None,
) -> None:
    app = _app("path-a")
    answer = await _get(app, "/ok", traceparent=TRACEPARENT)
    assert answer.status_code == 200
    # The handler runs inside the caller's trace, and the answer names it with a span id of
    # this request's own (not the caller's).
    assert answer.json() == {"trace_id": TRACE_ID}
    version, trace_id, span_id, flags = answer.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert len(span_id) == 16 and span_id != "b7ad6b7169203331"
    refused = await _get(app, "/refused", traceparent=TRACEPARENT)
    assert refused.status_code == 409 and refused.json()["trace_id"] == TRACE_ID


async def test_an_unrecorded_request_without_a_caller_trace_starts_one(unrecorded: None) -> None:
    first = await _get(_app("path-b"), "/ok")
    second = await _get(_app("path-b"), "/ok")
    assert len(first.json()["trace_id"]) == 32
    assert first.json()["trace_id"] != second.json()["trace_id"]
    assert first.headers["traceparent"].split("-")[1] == first.json()["trace_id"]


def _count(service: str, method: str, route: str, status: str) -> float:
    return float(HTTP_REQUESTS.labels(service, method, route, status)._value.get())


async def _post(app: FastAPI, content: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/echo", content=content, headers=JSON)


async def test_a_body_over_the_limit_is_413_declared_or_streamed_and_counted_as_sent() -> None:
    app = _app("path-c")
    small = await _post(app, b'{"a":"b"}')
    assert small.status_code == 200 and small.json() == {"a": "b"}
    declared = await _post(app, b'{"a":"' + b"x" * 100 + b'"}')
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert "traceparent" in declared.headers  # even a 413 belongs to the request's trace

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"a":"'
        for _ in range(10):
            yield b"x" * 10
        yield b'"}'

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        streamed = await client.post("/echo", content=chunks(), headers=JSON)
    assert streamed.status_code == 413
    assert streamed.json()["type"].endswith("/payload-too-large")
    assert _count("path-c", "POST", "/echo", "200") == 1
    # The declared one never reached routing; the streamed one did.
    assert _count("path-c", "POST", "unmatched", "413") == 1
    assert _count("path-c", "POST", "/echo", "413") == 1


async def test_a_control_character_in_the_url_is_refused_before_routing() -> None:
    answer = await _get(_app("path-d"), "/ok?name=a%00b")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "query.name"
    assert _count("path-d", "GET", "/ok", "200") == 0


async def test_an_app_may_write_the_refusals_itself() -> None:
    """The console writes its error page for a browser (`refuse`); the layer hands it each
    refusal's status, problem document and headers, the 413's `Connection: close` too."""
    written: list[tuple[int, str, tuple[tuple[bytes, bytes], ...]]] = []

    async def refuse(
        scope: Scope, send: Send, status: int, problem: dict[str, Any], headers: Headers
    ) -> None:
        written.append((status, str(problem["type"]).rsplit("/", 1)[1], headers))
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"written by the app"})

    app = FastAPI()
    app.add_middleware(ServiceRequests, service="path-w", max_bytes=64, refuse=refuse)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        url = await client.get("/ok?name=a%00b")
        large = await client.post("/echo", content=b"x" * 100, headers=JSON)
        twice = await client.get(
            "/ok", headers=[("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
        )
    assert [a.text for a in (url, large, twice)] == ["written by the app"] * 3
    assert written == [
        (422, "validation-failed", ()),
        (413, "payload-too-large", ((b"connection", b"close"),)),
        (400, "bad-request", ()),
    ]


async def test_a_recorded_request_is_one_server_span_named_by_its_route() -> None:
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    tracing.add_listener(processor)
    try:
        answer = await _get(_app("path-e"), "/refused", traceparent=TRACEPARENT)
    finally:
        tracing.remove_listener(processor)
    (span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.name == "GET /refused"
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 409
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert answer.headers["traceparent"].split("-")[2] == format(span.context.span_id, "016x")


def test_the_documentation_routes_are_tried_after_every_api_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.intake.app import create_app

    # Keys intake refuses to start without; never used here.
    key = "test:" + base64.b64encode(bytes(32)).decode()
    for name in (
        "DISPUTEDESK_SECRETS_KEYS",
        "DISPUTEDESK_PII_PRIVATE_KEYS",
        "DISPUTEDESK_PII_PUBLIC_KEY",
    ):
        monkeypatch.setenv(name, key)
    paths = [getattr(route, "path", None) for route in create_app().router.routes]
    docs = min(paths.index(p) for p in ("/docs-assets", "/docs", "/redoc"))
    assert docs > paths.index("/healthz")
    # Every included router (the API) is tried before the documentation.
    assert all(p is not None for p in paths[docs:]), paths
