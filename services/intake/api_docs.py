"""OpenAPI documentation of the problem+json answers every intake route may give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.problems import PROBLEM_JSON


class ProblemDocument(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    # Each failing field as {"field": "body.events.3.ts", "message": ...}.
    errors: list[dict[str, str]] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": ProblemDocument.model_json_schema()}},
    }


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
