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

# Allocations between two young collections (CPython's default is 700). A consumer batch keeps
# its rows, events and ORM objects alive for the whole batch: collected every 700 allocations,
# they are walked again and again and promoted to the old generations, which then need full
# collections to be walked once more; most are freed by reference counting at the batch's end.
YOUNG_THRESHOLD = 50_000

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


class _Running:
    """Apps started in this process and not yet stopped: the first to start tunes the
    collector, the last to stop restores it (tests run several apps at once)."""

    apps = 0
    thresholds: tuple[int, int, int] = gc.get_threshold()


def frozen_after_start(lifespan: Lifespan) -> Lifespan:
    """`lifespan`, with the heap frozen once start-up is done and thawed at shutdown (so an
    app started and stopped many times in one process, as in tests, leaves nothing frozen)."""

    @asynccontextmanager
    async def frozen(app: Any) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            if _Running.apps == 0:
                _Running.thresholds = gc.get_threshold()
            _Running.apps += 1
            gc.collect()  # start-up's own garbage is collected, not frozen with the rest
            gc.freeze()
            gc.set_threshold(YOUNG_THRESHOLD, *_Running.thresholds[1:])
            try:
                yield state
            finally:
                _Running.apps -= 1
                if _Running.apps == 0:
                    gc.set_threshold(*_Running.thresholds)
                    gc.unfreeze()

    return frozen
