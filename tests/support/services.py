"""Run the four services in this test process, against the real stack, with their lifespans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from shared.app import ServiceRuntime
from tests.support.waiting import service_started


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> ServiceRuntime:
        return self.app.state.runtime  # type: ignore[no-any-return]


def build_app(name: str) -> FastAPI:
    from importlib import import_module

    return import_module(f"services.{name}.app").create_app()  # type: ignore[no-any-return]


@asynccontextmanager
async def running(*names: str) -> AsyncIterator[dict[str, RunningService]]:
    """Start the named services (lifespan included) and yield an HTTP client for each."""
    async with AsyncExitStack() as stack:
        out: dict[str, RunningService] = {}
        for name in names:
            app = build_app(name)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{name}.test"
                )
            )
            out[name] = RunningService(app, client)
        for svc in out.values():
            await service_started(svc.runtime)
        yield out
