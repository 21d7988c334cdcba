"""Time as a dependency: services ask a `Clock` for now, so tests move time instead of sleeping.

`app.state.runtime.clock` is the clock of a running service; timer loops and handlers use it,
and an endpoint takes it as `clock: RequestClock` (the one way an HTTP request reads time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from fastapi import Depends, Request


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock tests set and advance; it never moves by itself."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware datetime")
        self._now = when


def clock_of(request: Request) -> Clock:
    """The running service's clock, read per request so a test that swaps it is followed."""
    clock: Clock = request.app.state.runtime.clock
    return clock


RequestClock = Annotated[Clock, Depends(clock_of)]
