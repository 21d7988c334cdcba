"""Named domain errors: what a service refuses, said in the domain's words and raised from
service code that knows nothing of HTTP. Each service maps its errors to problem types in one
module (`problem_types.py`), and `install_domain_errors` answers with that problem document."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.problems import TYPE_BASE, problem_response

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of every named refusal. `detail` is shown to the caller; `extra` members (such as
    `errors`) are added to the problem document."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True)
class ProblemType:
    """How one kind of domain error answers over HTTP."""

    status: int
    title: str

    @property
    def type_(self) -> str:
        return f"{TYPE_BASE}{self.title.lower().replace(' ', '-')}"


def problem_type_of(
    error: DomainError, problem_types: Mapping[type[DomainError], ProblemType]
) -> ProblemType | None:
    """The problem type of the nearest class of `error` that the mapping names."""
    for cls in type(error).__mro__:
        if cls in problem_types:
            return problem_types[cls]
    return None


def install_domain_errors(
    app: FastAPI, problem_types: Mapping[type[DomainError], ProblemType]
) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        found = problem_type_of(exc, problem_types)
        if found is None:  # a refusal nobody mapped: a bug, answered like any other
            log.error("unmapped domain error %s on %s", type(exc).__name__, request.url.path)
            return problem_response(
                request, 500, "Internal error", "The error was logged; the request had no effect."
            )
        return problem_response(
            request, found.status, found.title, exc.detail, type_=found.type_, **exc.extra
        )
