"""The RED metrics middleware: one count and one latency per request, labelled by the route's
template (never the concrete path) and the status, a raised error counted as 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.request_path import ServiceRequests


def _count(service: str, method: str, route: str, status: str) -> float:
    value = HTTP_REQUESTS.labels(service, method, route, status)._value.get()
    return float(value)


def _app(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.post("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("the handler failed")

    app.add_middleware(ServiceRequests, service=service)
    return app


async def _call(app: FastAPI, method: str, path: str) -> int:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return (await client.request(method, path)).status_code


@pytest.mark.asyncio
async def test_counts_by_route_template_and_status() -> None:
    app = _app("red-a")
    assert await _call(app, "GET", "/v1/things/T-1") == 200
    assert await _call(app, "GET", "/v1/things/T-2") == 200
    assert _count("red-a", "GET", "/v1/things/{thing_id}", "200") == 2
    samples = HTTP_LATENCY.labels("red-a", "GET", "/v1/things/{thing_id}")._sum.get()
    assert samples > 0


@pytest.mark.asyncio
async def test_an_error_counts_as_500_and_an_unknown_path_as_unmatched() -> None:
    app = _app("red-b")
    assert await _call(app, "POST", "/v1/boom") == 500
    assert _count("red-b", "POST", "/v1/boom", "500") == 1
    assert await _call(app, "GET", "/v1/nothing/here") == 404
    assert _count("red-b", "GET", "unmatched", "404") == 1


@pytest.mark.asyncio
async def test_a_method_nobody_routes_is_counted_as_other() -> None:
    """A client chooses the method: each invented one would be a new series of every RED metric
    (h11 accepts any token), so only the methods HTTP defines keep their own label."""
    app = _app("red-c")
    for invented in ("BREW", "X-SCAN-1", "X-SCAN-2"):
        assert await _call(app, invented, "/v1/things/T-1") == 405
    assert _count("red-c", "OTHER", "/v1/things/{thing_id}", "405") == 3
    series = {
        sample.labels["method"]
        for metric in HTTP_REQUESTS.collect()
        for sample in metric.samples
        if sample.labels.get("service") == "red-c"
    }
    assert series == {"OTHER"}
