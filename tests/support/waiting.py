"""Waiting for an asynchronous pipeline to reach a state, without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    until: Callable[[T], bool] = bool,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Poll `probe` until `until(result)` holds; fail with the last result after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if until(last):
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


async def service_started(runtime: Any, *, timeout: float = 60.0) -> None:
    """Wait until a service started in-process has connected its producer and each consumer;
    fail naming the one that did not (never wait forever: a hang tells nothing)."""
    waits = [("its producer", runtime.producer_ready)] + [
        (f"consumer {consumer.group_id}", consumer.ready) for consumer in runtime.consumers
    ]
    for what, ready in waits:
        try:
            await asyncio.wait_for(ready.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{runtime.name}: {what} not ready after {timeout}s"
                f" (topics missing: {runtime.missing_topics or 'none'})"
            ) from None
