"""Named domain errors: what a service refuses, said in the domain's words and raised from
service code that knows nothing of HTTP. Each service maps its errors to problem types in one
module (`problem_types.py`), and `install_domain_errors` answers with that problem document."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.problems import TYPE_BASE, problem_response

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of every named refusal. `detail` is shown to the caller; `extra` members (such as
    `errors`) are added to the problem document.

    `field` names what the refusal is about when the error does not list `errors` itself: for
    a conflict, the object whose state refuses the request (`path.notice_id` for a notice that
    cannot be contested any more). A refusal that names nothing leaves a client to guess which
    of its inputs to change (hostile8: a partner's contest answered 409 naming no field)."""

    field: ClassVar[str | None] = None

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
        extra = exc.extra
        if "errors" not in extra and exc.field is not None:
            named = {"field": _field_at(request, exc.field), "message": exc.detail}
            extra = {**extra, "errors": [named]}
        return problem_response(
            request, found.status, found.title, exc.detail, type_=found.type_, **extra
        )


def _field_at(request: Request, field: str) -> str:
    """`field` as the request names it: an error raised on several routes names its object by
    the path parameter of the route that raised it, when that one is not `field`'s."""
    name = field.removeprefix("path.")
    if name == field or name in request.path_params or not request.path_params:
        return field
    return f"path.{next(iter(request.path_params))}"
