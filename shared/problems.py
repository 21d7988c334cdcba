"""RFC 9457 problem details: the one way every service reports an error.

Validation errors name each failing field by its path (`body.evidence.0.sha256`), so a caller can
fix the request without reading our code. Nothing escapes as an HTML or bare 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asyncpg import PostgresError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Send

from shared.tracing import SCOPE_TRACE_ID, current_trace_id
from shared.transient import (
    concurrent_duplicate_constraint,
    concurrent_duplicate_field,
    is_transient,
    refused_value,
    schema_behind,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://disputedesk.dev/problems/"
# The most failing fields a problem document lists. A body of one megabyte can hold a hundred
# thousand unknown keys, each an error: listed in full, the answer was six times the request
# (5 MB for 0.87 MB) and took as long to write as to read, for a caller whose fix starts with
# the first few anyway. The rest are counted in `errors_total`.
MAX_LISTED_ERRORS = 50


def problem_bytes(document: dict[str, Any]) -> bytes:
    """A problem document as every answer of ours writes it: the one serialisation, whoever
    answers (a route, the URL check before routing, the body limit, the HTTP protocol before any
    app runs), so that two refusals of one type never differ by their spacing or escaping. The
    same as Starlette's `JSONResponse` renders: compact, UTF-8, no NaN. A lone surrogate in a
    message (a value decoded from bytes that were not UTF-8) is written as its JSON escape
    instead of failing the answer."""
    return json.dumps(
        document, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8", "backslashreplace")


async def send_problem(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    """Answer a problem document (`problem_bytes`) straight on the ASGI channel: for the
    refusals made before any route runs (a header, the URL, the content coding, the body's
    size), where there is no Response object to return."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return problem_bytes(content)


class Problem(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type_ = type_ or f"{TYPE_BASE}{title.lower().replace(' ', '-')}"
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_ or f"{TYPE_BASE}{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    errors = extra.get("errors")
    if status == 422 and isinstance(errors, list) and errors:
        # A 422's detail names what it refuses, whichever check raised it: a sentence written
        # for one route ("say which") gets the fields its `errors` name.
        fields = [str(e.get("field")) for e in errors if isinstance(e, dict) and e.get("field")]
        if fields and not any(f in (detail or "") for f in fields):
            named = f"Invalid field(s): {', '.join(fields[:10])}."
            detail = f"{detail.rstrip()} {named}" if detail else named
    if isinstance(errors, list) and len(errors) > MAX_LISTED_ERRORS:
        extra = {**extra, "errors": errors[:MAX_LISTED_ERRORS], "errors_total": len(errors)}
        listed = f"{len(errors)} failing fields in all; the first {MAX_LISTED_ERRORS} are listed."
        detail = f"{detail.rstrip()} ({listed})" if detail else listed
    if detail:
        body["detail"] = detail
    body.update(extra)
    # An extension member naming the request's trace, so a caller's report leads to its spans.
    trace_id = current_trace_id() or request.scope.get(SCOPE_TRACE_ID)
    if trace_id:
        body["trace_id"] = trace_id
    return ProblemResponse(body, status_code=status, headers=headers)


def field_errors(errors: list[dict[str, Any]] | Any) -> list[dict[str, str]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            # FastAPI puts the byte offset where a field name would go; name the body instead.
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            out.append({"field": "body", "message": f"Malformed JSON ({reason}) at byte {loc[-1]}"})
            continue
        out.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", "invalid"))})
    return out


STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
}


def _unreadable_body(exc: StarletteHTTPException) -> str | None:
    """Why FastAPI could not parse a body it answers with a bare "error parsing the body" 400:
    the cause it raised from, named so the caller can fix the request."""
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return f"byte {cause.start} is not UTF-8"
    if isinstance(cause, RecursionError):
        return "nested too deeply"
    return None


def problem_answer(request: Request, exc: Problem) -> JSONResponse:
    """The answer to a raised `Problem`: the services' handler's, and the console's for the
    refusals its routes raise before a page runs."""
    return problem_response(
        request,
        exc.status,
        exc.title,
        exc.detail,
        type_=exc.type_,
        headers=exc.headers,
        **exc.extra,
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_answer(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc.errors())
        fields = ", ".join(e["field"] for e in errors[:10])
        return problem_response(
            request,
            422,
            "Validation failed",
            f"Invalid field(s): {fields}",
            type_=f"{TYPE_BASE}validation-failed",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = STATUS_TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        extra: dict[str, Any] = {}
        if reason := _unreadable_body(exc):
            detail = f"The body could not be read as JSON: {reason}."
            extra["errors"] = [{"field": "body", "message": reason}]
        return problem_response(
            request, exc.status_code, title, detail, headers=getattr(exc, "headers", None), **extra
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The caller hung up before its body arrived (a client timeout under load): nothing
        # was read or stored and nobody reads the answer. Logging it as a crash with its
        # traceback would spend CPU exactly when the service has none to spare.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return problem_response(request, 400, "Client closed request", None)

    # Registered for their classes, not only caught in `_unexpected`: the handler of `Exception`
    # runs in Starlette's outermost layer, which answers and then raises the error on (a
    # traceback in the server's log for a request that was answered as it should be).
    # asyncpg's own errors too: the hottest statements go to the driver without SQLAlchemy.
    @app.exception_handler(PostgresError)
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if constraint := concurrent_duplicate_constraint(exc):
            # Two requests stored the same thing at once (no Idempotency-Key, or two keys): the
            # database let one through and refused this one, which stored nothing. A retry meets
            # the stored row through the route's own checks and gets their answer. Logged by
            # constraint name only: the database's message quotes the values, which may be
            # personal data.
            log.warning(
                "concurrent duplicate on %s %s: %s", request.method, request.url.path, constraint
            )
            return problem_response(
                request,
                409,
                "Conflict",
                "Another request stored the same thing at the same moment; this one stored "
                "nothing. Retry it to get the answer the stored one now gives.",
                headers={"Retry-After": "1"},
                # The unique key it ran into, by its columns (a request's fields of the same
                # name): hostile8 found this 409 naming nothing.
                errors=[
                    {
                        "field": concurrent_duplicate_field(exc),
                        "message": "stored by another request at the same moment; retry",
                    }
                ],
            )
        return await _unexpected(request, exc)

    # A database that refuses connections (asyncpg raises the socket's own OSError, not wrapped)
    # is answered 503 by `_unexpected` like any transient error: registered here so that the
    # answered request leaves no "Exception in ASGI application" traceback too.
    @app.exception_handler(OSError)
    @app.exception_handler(OverflowError)
    async def _answered_inside(request: Request, exc: Exception) -> JSONResponse:
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if sqlstate := schema_behind(exc):
            # Not the caller's fault and not a crash of this request: the database lacks what
            # the code needs. An error, so that someone migrates; /readyz says the same.
            log.error(
                "database schema behind the code on %s %s: SQLSTATE %s; run `disputedesk migrate`",
                request.method,
                request.url.path,
                sqlstate,
            )
            return problem_response(
                request,
                503,
                "Service unavailable",
                "This service's database is not yet migrated to the schema its code needs; "
                "nothing was stored. Retry once it is.",
                headers={"Retry-After": "30"},
            )
        if is_transient(exc):
            # The database (or broker) is away for a moment: nothing was stored, and the same
            # request (same Idempotency-Key or partner delivery id) will succeed on a retry.
            log.warning(
                "dependency unavailable on %s %s: %s",
                request.method,
                request.url.path,
                type(exc).__name__,
            )
            return problem_response(
                request,
                503,
                "Service unavailable",
                "A dependency is briefly unavailable; nothing was stored. Retry shortly.",
                headers={"Retry-After": "2"},
            )
        if refused := refused_value(exc):
            # A value passed every declared check yet the database refused it (a value missing,
            # a reference to nothing, a rule, a range) or date arithmetic overflowed: the
            # request's fault, nothing was stored. Logged by SQLSTATE and column only, because
            # it means a bound is missing from the request's types. A warning, not an error,
            # even for a missing value or a reference to nothing (which may be the service's own
            # omission): a client can send such values at will, and must not page anyone.
            log.warning(
                "value refused on %s %s: SQLSTATE %s, %s",
                request.method,
                request.url.path,
                refused.sqlstate,
                refused.field,
            )
            return problem_response(
                request,
                422,
                "Validation failed",
                (
                    f"A value in the request {refused.message}. Nothing was stored."
                    if refused.field == "request"
                    else f"The value of {refused.field} {refused.message}. Nothing was stored."
                ),
                type_=f"{TYPE_BASE}validation-failed",
                errors=[{"field": refused.field, "message": refused.message}],
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request, 500, "Internal error", "The error was logged; the request had no effect."
        )
