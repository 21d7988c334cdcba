"""The frozen heap of a running service: start-up's objects are not walked by the collector
while the app runs, young objects are collected less often, and both are undone once it has
stopped."""

from __future__ import annotations

import base64
import gc
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from shared.heap import YOUNG_THRESHOLD, _Running, frozen_after_start


async def test_the_heap_is_frozen_while_the_app_runs_and_thawed_after() -> None:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        app.append("started")
        yield
        app.append("stopped")

    app: list[str] = []
    async with frozen_after_start(lifespan)(app):
        assert app == ["started"]
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert app == ["started", "stopped"]
    _assert_as_before_any_app()


def _assert_as_before_any_app() -> None:
    """The collector as it was before the first app started, unless an app of the session (the
    integration tests' pipeline) still runs in this process, which keeps it tuned."""
    if _Running.apps:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    else:
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == _Running.thresholds


@pytest.mark.parametrize("service", ["intake", "fraud", "reconciliation", "notifications"])
def test_every_service_freezes_its_heap_after_start(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keys the services refuse to start without; never used here.
    key = "test:" + base64.b64encode(bytes(32)).decode()
    monkeypatch.setenv("DISPUTEDESK_SECRETS_KEYS", key)
    monkeypatch.setenv("DISPUTEDESK_PII_PRIVATE_KEYS", key)
    monkeypatch.setenv("DISPUTEDESK_PII_PUBLIC_KEY", key)
    create_app = importlib.import_module(f"services.{service}.app").create_app
    app = create_app()
    assert app.router.lifespan_context.__qualname__.startswith("frozen_after_start")


async def test_two_apps_in_one_process_restore_the_collector_when_the_last_stops() -> None:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield

    first, second = frozen_after_start(lifespan), frozen_after_start(lifespan)
    first_running = first(None)
    await first_running.__aenter__()
    async with second(None):
        pass
    # The second stopped first: the first still runs with the collector tuned.
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
    await first_running.__aexit__(None, None, None)
    _assert_as_before_any_app()
