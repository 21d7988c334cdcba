"""The OpenAPI document and API docs every service serves: the bearer scheme on every route that
takes an API key, every error as RFC 9457 problem+json, and Swagger UI / ReDoc from assets
shipped in a Python package (no CDN: the docs work offline and load no third-party script).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from shared.access import route_access
from shared.examples import example
from shared.problems import PROBLEM_JSON, STATUS_TITLES, TYPE_BASE

BEARER = "bearerAuth"
DOCS_ASSETS = "/docs-assets"
# Routes anyone may call: probes and Prometheus. They answer neither 401 nor 503 as a problem.
PUBLIC_OPS = {"/healthz", "/readyz", "/metrics"}


class ProblemDocument(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    # Each failing field as {"field": "body.events.3.ts", "message": ...}.
    errors: list[dict[str, str]] | None = None
    errors_total: int | None = Field(
        default=None,
        description="Present when more fields failed than `errors` lists (at most 50): "
        "how many failed in all.",
    )
    trace_id: str | None = Field(
        default=None,
        description="The request's trace (32 hex digits): its spans and log lines carry it.",
        examples=["0af7651916cd43dd8448eb211c80319c"],
    )


def problem_response_doc(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


# What any route may answer besides its own outcomes; a route's own description wins.
_AUTH = {
    "401": "No, unknown or revoked API key",
    "403": "The key's roles may not do this (or act for this seller)",
}
_INPUT = {"422": "Malformed or invalid request; `errors` names each failing field"}
_BODY = {
    "400": "The body could not be read (not UTF-8 text, or cut off)",
    "413": "Body over the service's limit (with or without Content-Length)",
    "415": "The body is not UTF-8: another charset declared, or UTF-16/32 sent",
}
_PATH = {"404": "No such resource (or not the caller's to see)"}
_WRITE = {"409": "Conflict with the current state, or the same Idempotency-Key still in flight"}
_ALWAYS = {
    "406": "`Accept` takes none of the media types this route answers (`acceptable` lists them)",
    "503": "A dependency is briefly unavailable; nothing was stored, retry shortly",
}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def _authenticated_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (route.route.path_format, route.method.lower())
        for route in route_access(app)
        if route.authenticated
    }


def _add(responses: dict[str, Any], statuses: dict[str, str]) -> None:
    for status, description in statuses.items():
        existing = responses.get(status)
        if existing is None:
            responses[status] = problem_response_doc(description)
        elif PROBLEM_JSON not in existing.get("content", {}):
            # FastAPI's own 422 (a JSON list of pydantic errors) is not what we answer, and a
            # route that documents an error by description alone answers it as a problem too.
            existing["content"] = problem_response_doc(description)["content"]


def document(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the bearer scheme and the problem answers on an OpenAPI document."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key issued to the client: `Authorization: Bearer <key>`.",
    }
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = ProblemDocument.model_json_schema()
    authenticated = _authenticated_operations(app)
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            if path in PUBLIC_OPS:
                continue
            if (path, method) in authenticated:
                op["security"] = [{BEARER: []}]
                _add(responses, _AUTH)
                if "429" not in responses:
                    responses["429"] = {
                        **problem_response_doc(
                            "Over the key's request rate, or too many failed authentications "
                            "from this address; retry after `Retry-After` seconds"
                        ),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    }
            if any(p.get("name") == "cursor" for p in op.get("parameters", [])):
                ok = responses.get("200", {})
                ok.setdefault("headers", {})["Link"] = {
                    "description": 'The next page, as `<url>; rel="next"` (RFC 8288); absent on '
                    "the last page.",
                    "schema": {"type": "string"},
                }
            if op.get("parameters") or op.get("requestBody"):
                _add(responses, _INPUT)
            if op.get("requestBody"):
                _add(responses, _BODY)
            if any(p.get("in") == "path" for p in op.get("parameters", [])):
                _add(responses, _PATH)
            if method in ("post", "put", "patch", "delete"):
                _add(responses, _WRITE)
            _add(responses, _ALWAYS)
            declared = {
                status: str(answer.get("description", ""))
                for status, answer in responses.items()
                if status.startswith(("4", "5"))
            }
            _add(responses, declared)
    _add_examples(schema)
    if _FASTAPI_422 not in str(schema.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return schema


def _problem_example(status: int, path: str) -> dict[str, Any]:
    title = {**STATUS_TITLES, 500: "Internal error", 503: "Service unavailable"}.get(
        status, "Error"
    )
    out: dict[str, Any] = {
        "type": f"{TYPE_BASE}{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "instance": path,
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
    }
    if status == 422:
        out.update(
            type=f"{TYPE_BASE}validation-failed",
            title="Validation failed",
            detail="Invalid field(s): body.return_id",
            errors=[{"field": "body.return_id", "message": "Field required"}],
        )
    return out


def _add_examples(schema: dict[str, Any]) -> None:
    """An example on every JSON request body and response that has none of its own, made from
    its schema (shared/examples.py); every problem answer gets one of its status."""
    components = schema.get("components", {}).get("schemas", {})
    for path, item in schema.get("paths", {}).items():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            bodies = [op.get("requestBody", {})]
            for status, answer in op.get("responses", {}).items():
                problem = answer.get("content", {}).get(PROBLEM_JSON)
                if problem is not None and "example" not in problem and status.isdigit():
                    problem["example"] = _problem_example(int(status), path)
                if status.startswith("2"):
                    bodies.append(answer)
            for body in bodies:
                media = body.get("content", {}).get("application/json")
                if media is None or "example" in media or "examples" in media:
                    continue
                if media.get("schema"):
                    media["example"] = example(media["schema"], components)


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the documented version (generated once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            base = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = document(app, base)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _asset_folder() -> Path:
    """Swagger UI and ReDoc bundles shipped inside the `fastapi-offline` wheel."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def install_docs(app: FastAPI) -> None:
    """/docs and /redoc from local assets (the app is built with docs_url=None, redoc_url=None)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=_asset_folder()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} - API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            # The key typed into "Authorize" survives a reload of the page.
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
