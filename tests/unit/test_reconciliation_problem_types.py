"""Named domain errors become problem documents in one place: every error the case domain can
raise has a problem type, and the answer is the same problem+json a `Problem` gave before."""

from __future__ import annotations

import inspect

import httpx
from fastapi import FastAPI

from services.reconciliation.cases import errors
from services.reconciliation.problem_types import PROBLEM_TYPES
from shared.errors import DomainError, install_domain_errors
from shared.events import CaseState
from shared.problems import install_problem_handlers


def _domain_errors() -> list[type[DomainError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, DomainError)
        and cls.__module__ == errors.__name__
        and cls is not errors.CaseError  # the base, never raised itself
    ]


def test_every_case_error_has_a_problem_type() -> None:
    named = _domain_errors()
    assert len(named) >= 6
    for cls in named:
        assert any(base in PROBLEM_TYPES for base in cls.__mro__), cls.__name__


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_domain_errors(app, PROBLEM_TYPES)

    @app.get("/conflict")
    async def conflict() -> None:
        raise errors.CaseStateConflict("CASE-1", "CLOSED", "decide")

    @app.get("/illegal")
    async def illegal() -> None:
        raise errors.IllegalTransition(CaseState.CLOSED, "WAIT")

    @app.get("/overturn")
    async def overturn() -> None:
        raise errors.OverturnIncomplete()

    return app


async def test_a_domain_error_answers_with_its_problem_type() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/conflict")
        illegal = await client.get("/illegal")
        overturn = await client.get("/overturn")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json() == {
        "type": "https://disputedesk.dev/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "instance": "/conflict",
        "detail": "Case CASE-1 is CLOSED; cannot decide.",
        # The conflict names what conflicts (hostile8): the case whose state refuses.
        "errors": [{"field": "path.case_id", "message": "Case CASE-1 is CLOSED; cannot decide."}],
    }
    assert illegal.status_code == 409
    r = overturn
    assert r.status_code == 422
    assert r.json()["type"] == "https://disputedesk.dev/problems/validation-failed"
    assert r.json()["errors"] == [{"field": "body.liable_party", "message": "required to overturn"}]
