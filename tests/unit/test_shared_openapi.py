"""Every service's OpenAPI document declares the bearer scheme on the routes that take an API
key (and only there), answers errors as problem+json, and its docs pages load no CDN asset."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.routes import service_apps

SERVICES = ["intake", "fraud", "reconciliation", "notifications"]
# Probes and Prometheus are public; partner webhooks authenticate by their partner's signature.
PUBLIC = ("/healthz", "/readyz", "/metrics", "/v1/webhooks/")


def _app(service: str) -> Any:
    # No lifespan runs: building the app and its document touches no database or broker.
    return service_apps()[service]


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_declares_bearer_auth_and_problem_answers(service: str) -> None:
    doc = _app(service).openapi()
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            public = path.startswith(PUBLIC)
            assert (op.get("security") == [{"bearerAuth": []}]) != public, (method, path)
            if not public:
                assert {"401", "403", "429", "503"} <= set(op["responses"]), (method, path)
            if op.get("requestBody"):
                assert {"413", "422"} <= set(op["responses"]), (method, path)
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")) and answer.get("content"):
                    assert list(answer["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )


@pytest.mark.parametrize("service", SERVICES)
async def test_docs_pages_load_their_assets_from_the_service(service: str) -> None:
    app = _app(service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for page in ("/docs", "/redoc"):
            r = await client.get(page)
            assert r.status_code == 200
            assert "https://" not in r.text, page
            assert "/docs-assets/" in r.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            r = await client.get(f"/docs-assets/{asset}")
            assert r.status_code == 200, asset
