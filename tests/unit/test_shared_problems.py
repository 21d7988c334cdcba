"""problem+json for what goes wrong inside a request: 503 for a dependency that is away."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import ClientDisconnect

from shared.problems import install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/db-down")
    async def db_down() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    @app.get("/db-refuses-connections")
    async def db_refuses_connections() -> None:
        # What asyncpg raises, unwrapped, when PostgreSQL is not listening.
        raise ConnectionRefusedError(111, "Connection refused")

    @app.get("/gone")
    async def gone() -> None:
        raise ClientDisconnect()

    @app.get("/out-of-range")
    async def out_of_range() -> None:
        # What asyncpg raises for a parameter past BIGINT, as SQLAlchemy wraps it.
        driver = type("DataError", (Exception,), {"sqlstate": "22000"})("value out of int64 range")
        raise DBAPIError("SELECT $1", (10**25,), driver)

    @app.get("/overflow")
    async def overflow() -> None:
        raise OverflowError("date value out of range")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    return app


async def test_database_outage_is_503_with_retry_after() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/db-down")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_database_refusing_connections_is_503_and_raises_nothing_on() -> None:
    # raise_app_exceptions: an error answered by the outermost layer is raised on after it,
    # a traceback in the server's log for a request answered as it should be.
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/db-refuses-connections")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_bug_is_a_problem_500_without_internals() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/bug")
    assert r.status_code == 500
    assert "a bug" not in r.text and r.json()["title"] == "Internal error"


async def test_a_client_that_hung_up_is_not_an_internal_error(caplog: Any) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/gone")
    assert r.status_code == 400
    assert not [rec for rec in caplog.records if rec.levelname == "ERROR"]


@pytest.mark.parametrize("path", ["/out-of-range", "/overflow"])
async def test_a_value_past_what_can_be_stored_is_422_not_500(path: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get(path)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
