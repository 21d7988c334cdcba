"""The one clock dependency: an endpoint reads time from the running service's clock, so a test
that sets or swaps that clock moves every request's now with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
from fastapi import FastAPI

from shared.clock import ManualClock, RequestClock


def _app(clock: ManualClock) -> FastAPI:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(clock=clock)

    @app.get("/now")
    async def now(clock: RequestClock) -> dict[str, str]:
        return {"now": clock.now().isoformat()}

    return app


async def test_an_endpoint_reads_the_runtime_clock_even_after_a_test_swaps_it() -> None:
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock = ManualClock(start)
    app = _app(clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/now")).json() == {"now": start.isoformat()}
        clock.advance(timedelta(hours=2))
        assert (await client.get("/now")).json() == {"now": "2026-11-24T12:00:00+00:00"}
        app.state.runtime.clock = ManualClock(datetime(2027, 1, 1, tzinfo=UTC))
        assert (await client.get("/now")).json() == {"now": "2027-01-01T00:00:00+00:00"}
