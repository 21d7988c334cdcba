"""The frozen heap of a running service: start-up's objects are not walked by the collector
while the app runs, young objects are collected less often, and both are undone once it has
stopped."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shared.heap import YOUNG_THRESHOLD, frozen_after_start


async def test_the_heap_is_frozen_while_the_app_runs_and_thawed_after() -> None:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        app.append("started")
        yield
        app.append("stopped")

    app: list[str] = []
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    async with frozen_after_start(lifespan)(app):
        assert app == ["started"]
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *thresholds[1:])
    assert app == ["started", "stopped"]
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


def test_reconciliation_freezes_its_heap_after_start() -> None:
    from services.reconciliation.app import create_app

    app = create_app()
    assert app.router.lifespan_context.__qualname__.startswith("frozen_after_start")


async def test_two_apps_in_one_process_restore_the_collector_when_the_last_stops() -> None:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield

    thresholds = gc.get_threshold()
    first, second = frozen_after_start(lifespan), frozen_after_start(lifespan)
    first_running = first(None)
    await first_running.__aenter__()
    async with second(None):
        pass
    # The second stopped first: the first still runs with the collector tuned.
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *thresholds[1:])
    assert gc.get_freeze_count() > 0
    await first_running.__aexit__(None, None, None)
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
