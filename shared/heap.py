"""The cycle collector and a long-running service: what was built at start-up is never garbage.

A service's imports and start-up leave hundreds of thousands of objects (modules, validators,
compiled statements, mappers) that live as long as the process. CPython's full collection walks
every one of them each time it runs, and a busy consumer triggers one every few thousand
promoted objects: on reconciliation's decision path that walk was about half the CPU. Moving the
start-up objects to the permanent generation (`gc.freeze`) leaves the collector only what was
made since, and garbage cycles among those are still collected as before.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def frozen_after_start(lifespan: Lifespan) -> Lifespan:
    """`lifespan`, with the heap frozen once start-up is done and thawed at shutdown (so an
    app started and stopped many times in one process, as in tests, leaves nothing frozen)."""

    @asynccontextmanager
    async def frozen(app: Any) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            gc.collect()  # start-up's own garbage is collected, not frozen with the rest
            gc.freeze()
            try:
                yield state
            finally:
                gc.unfreeze()

    return frozen
