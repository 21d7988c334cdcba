"""The hang report names the await a stuck test is waiting at, through `async with`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.support.hangs import unfinished_tasks_report


@asynccontextmanager
async def _door(opened: asyncio.Event) -> AsyncIterator[None]:
    await opened.wait()
    yield


async def _walk_through(opened: asyncio.Event) -> None:
    async with _door(opened):
        pass


async def test_the_report_follows_awaits_into_an_async_context_manager() -> None:
    opened = asyncio.Event()
    task = asyncio.create_task(_walk_through(opened), name="walker")
    await asyncio.sleep(0)
    report = unfinished_tasks_report()
    opened.set()
    await task
    walker = report.split("--- walker:")[1].split("\n--- ")[0]
    assert "in _walk_through" in walker
    assert "in _door" in walker
    assert "locks.py" in walker and "in wait" in walker
    assert "unfinished asyncio task(s)" in report
