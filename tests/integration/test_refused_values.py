"""A value PostgreSQL refuses answers 422 problem+json naming what is wrong, never a 500, for
every class of refusal: a foreign key to nothing (23503), a missing value (23502), a check
(23514), and the data exceptions (class 22: too long, out of range, NUL, a parameter asyncpg
cannot encode). The services' types are meant to refuse all of these first; this is the net
under them, one exception handler for all four services (`shared/problems.py`), exercised with
the real errors of the real database rather than imitations. The answer never quotes the
refused value (it may be personal data), and nothing escapes to the server as a crash.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.problems import install_problem_handlers
from tests.conftest import Harness
from tests.support.db import scratch_database

SCHEMA = """
CREATE TABLE parents (parent_id varchar(64) PRIMARY KEY);
CREATE TABLE children (
    child_id serial PRIMARY KEY,
    parent_id varchar(64) NOT NULL REFERENCES parents (parent_id),
    name varchar(8),
    amount bigint CONSTRAINT ck_children_amount_nonzero CHECK (amount <> 0),
    note text
);
INSERT INTO parents VALUES ('P-1');
"""

# Each statement, its parameters, and the field the answer must name.
REFUSALS: dict[str, tuple[str, dict[str, Any], str]] = {
    "a foreign key to nothing": (
        "INSERT INTO children (parent_id) VALUES (:v)",
        {"v": "secret-parent@example.com"},
        "parent_id",
    ),
    "a missing value": ("INSERT INTO children (parent_id) VALUES (:v)", {"v": None}, "parent_id"),
    "a check": (
        "INSERT INTO children (parent_id, amount) VALUES ('P-1', :v)",
        {"v": 0},
        "ck_children_amount_nonzero",
    ),
    "a text too long": (
        "INSERT INTO children (parent_id, name) VALUES ('P-1', :v)",
        {"v": "secret-name@example.com"},
        "request",
    ),
    "a NUL in text": (
        "INSERT INTO children (parent_id, note) VALUES ('P-1', :v)",
        {"v": "secret\x00note"},
        "request",
    ),
    "a number out of range": ("SELECT CAST(:v AS integer)", {"v": 10**12}, "request"),
    "a parameter past BIGINT": (
        "INSERT INTO children (parent_id, amount) VALUES ('P-1', :v)",
        {"v": 10**25},
        "request",
    ),
}


@pytest.fixture
async def refusing_app(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    async with scratch_database(harness, "refusals") as (_, engine):
        async with engine.begin() as conn:
            for statement in SCHEMA.strip().split(";\n"):
                await conn.execute(text(statement))
        app = _app(engine)
        # Exceptions raised on to the server fail the test: an answer alone is not enough.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


def _app(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/refuse/{what}")
    async def refuse(what: str) -> None:
        statement, params, _ = REFUSALS[what]
        async with engine.begin() as conn:
            await conn.execute(text(statement), params)

    @app.post("/refuse-in-the-driver/{what}")
    async def refuse_in_the_driver(what: str) -> None:
        # As the hottest statements are sent: to asyncpg itself, without SQLAlchemy's wrapping.
        statement, params, _ = REFUSALS[what]
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.execute(statement.replace(":v", "$1"), params["v"])

    return app


@pytest.mark.parametrize("through", ["refuse", "refuse-in-the-driver"])
@pytest.mark.parametrize("what", list(REFUSALS))
async def test_a_value_the_database_refuses_answers_422_naming_it(
    refusing_app: httpx.AsyncClient, what: str, through: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, params, field = REFUSALS[what]
    with caplog.at_level(logging.WARNING):
        r = await refusing_app.post(f"/{through}/{what}")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["title"] == "Validation failed"
    assert [e["field"] for e in doc["errors"]] == [field], doc
    if field != "request":
        assert field in doc["detail"], doc
    # Neither the answer nor the log quotes the value.
    if isinstance(params["v"], str):
        for said in (r.text, caplog.text):
            assert "secret" not in said, said
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR], caplog.text
