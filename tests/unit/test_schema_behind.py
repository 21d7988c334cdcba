"""Code ahead of its database's schema (deployed before `disputedesk migrate`): requests are
answered 503 naming why, consumers wait instead of dead-lettering, /readyz says where the
database is against the code."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, ProgrammingError

from shared.migrations import code_heads, schema_verdict
from shared.problems import install_problem_handlers
from shared.transient import is_transient, schema_behind

MISSING = [
    asyncpg.exceptions.UndefinedTableError('relation "escalations" does not exist'),
    asyncpg.exceptions.UndefinedColumnError('column "still_needed" does not exist'),
    asyncpg.exceptions.UndefinedFunctionError("function intake_file_escalation() does not exist"),
]


def _wrapped(driver: Exception) -> DBAPIError:
    # As SQLAlchemy's asyncpg dialect raises it: its adapted error, raised from asyncpg's own.
    return ProgrammingError("SELECT 1", {}, driver)


@pytest.mark.parametrize("driver", MISSING, ids=lambda e: type(e).__name__)
def test_a_missing_table_column_or_function_is_the_schema_behind(driver: Exception) -> None:
    assert schema_behind(driver) == driver.sqlstate  # type: ignore[attr-defined]
    assert schema_behind(_wrapped(driver)) == driver.sqlstate  # type: ignore[attr-defined]
    # A consumer retries (with backoff) until the migration, rather than dead-lettering.
    assert is_transient(_wrapped(driver))


def test_other_programming_errors_are_not() -> None:
    syntax = asyncpg.exceptions.PostgresSyntaxError("syntax error at or near")
    assert schema_behind(_wrapped(syntax)) is None
    assert not is_transient(_wrapped(syntax))


@pytest.mark.parametrize("driver", MISSING, ids=lambda e: type(e).__name__)
async def test_a_request_meeting_a_missing_schema_is_503_naming_why(driver: Exception) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/things")
    async def things() -> None:
        raise _wrapped(driver)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.post("/v1/things", json={})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "30"
    assert "not yet migrated" in r.json()["detail"]


def test_every_service_knows_its_code_heads() -> None:
    for service in ("intake", "fraud", "reconciliation", "notifications"):
        heads = code_heads(service)
        assert heads is not None and len(heads) == 1, (service, heads)
    assert code_heads("an-app-of-a-test") is None


def test_the_verdict_names_both_sides() -> None:
    code = frozenset({"e5b2c9d4a716"})
    assert schema_verdict("intake", code, code) == "ok"
    behind = schema_verdict("intake", code, frozenset({"d3a8f1c6b2e4"}))
    assert "d3a8f1c6b2e4" in behind and "e5b2c9d4a716" in behind and "migrate" in behind
    assert "never migrated" in schema_verdict("intake", code, frozenset())
