"""What a hung test was waiting for.

pytest-timeout's dump shows each thread's stack, and for an asyncio test that is the event loop
idling in `select`: it never says which await never returned. Shortly before the timeout fires,
this prints every unfinished asyncio task with the line it is suspended at, so a hang seen once
in CI can be read from the log instead of waited for again.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Printed this long before pytest-timeout's own dump (which fails the test).
LEAD_S = 15.0


def unfinished_tasks_report() -> str:
    out = io.StringIO()
    tasks = [obj for obj in gc.get_objects() if isinstance(obj, asyncio.Task) and not obj.done()]
    print(f"{len(tasks)} unfinished asyncio task(s):", file=out)
    for task in tasks:
        print(f"--- {task.get_name()}: {task.get_coro()!r}", file=out)
        for line in _await_chain(task.get_coro()):
            print(f"    {line}", file=out)
    return out.getvalue()


def _await_chain(awaitable: object) -> list[str]:
    """The lines a suspended coroutine is waiting at, outermost first, following each `await`
    into the coroutine it awaits (Task.get_stack gives only the outermost frame)."""
    lines: list[str] = []
    caller = None
    for _ in range(40):
        if awaitable is None:
            break
        if type(awaitable).__name__ == "async_generator_asend" and caller is not None:
            # `async with` on an @asynccontextmanager: the step object hides its generator;
            # the caller's frame holds it (contextlib keeps it as `self.gen`).
            awaitable = _running_async_generator(caller) or awaitable
        frame = (
            getattr(awaitable, "cr_frame", None)
            or getattr(awaitable, "ag_frame", None)
            or getattr(awaitable, "gi_frame", None)
        )
        if frame is None:
            lines.append(f"awaiting {awaitable!r}")
            break
        code = frame.f_code
        lines.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        caller = frame
        awaitable = (
            getattr(awaitable, "cr_await", None)
            or getattr(awaitable, "ag_await", None)
            or getattr(awaitable, "gi_yieldfrom", None)
        )
    return lines


def _running_async_generator(frame: FrameType) -> object | None:
    for value in frame.f_locals.values():
        for candidate in (value, getattr(value, "gen", None)):
            if inspect.isasyncgen(candidate) and candidate.ag_running:
                return candidate
    return None


@contextmanager
def tasks_dumped_before(timeout_s: float | None) -> Iterator[None]:
    """Print the unfinished tasks to stderr (captured with the test's output) LEAD_S before
    `timeout_s`; nothing when the test ends first or has no timeout."""
    if not timeout_s or timeout_s <= LEAD_S:
        yield
        return

    def dump() -> None:
        sys.stderr.write(
            f"\n+++ {timeout_s - LEAD_S:.0f}s into the test, {LEAD_S:.0f}s before its timeout\n"
        )
        sys.stderr.write(unfinished_tasks_report())

    timer = threading.Timer(timeout_s - LEAD_S, dump)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
