"""OpenAPI documentation of the problem+json answers every intake route may give."""

from __future__ import annotations

from typing import Any

from shared.openapi import problem_response_doc as _problem

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("No, unknown or revoked credentials"),
    403: _problem("The caller's role may not do this"),
    404: _problem("No such resource (or not the caller's to see)"),
    409: _problem("Conflict (e.g. the same Idempotency-Key is still in flight)"),
    413: _problem("Body over 1 MiB"),
    422: _problem("Malformed or invalid request; `errors` names each failing field"),
}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        **_problem("Over the partner's rate limit; retry after `Retry-After` seconds"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}
