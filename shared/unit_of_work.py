"""The unit of work: what one session's code shares besides the session itself.

A consumer batch (or a request) is one transaction, and the code in it keeps state until that
transaction ends: caches of what the batch already read, rows buffered for one multi-row INSERT,
metric updates that wait for the commit, the outbox's "events were enqueued" flag. Each module
keeps its part as an instance of a class it owns, found by that class, so a part is typed and
two modules can never collide on a string key. Consumer handlers reach it as `ctx.unit`; code
that holds only the session, as `unit_of(session)`.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

P = TypeVar("P")

# The only key this project puts in `Session.info`: SQLAlchemy's place for a session's own
# state, reached the same way from the sync side (event listeners) and the async side.
_KEY = "disputedesk.unit_of_work"


class UnitOfWork:
    """Typed parts of one session's state, each made on first use by its class's constructor."""

    __slots__ = ("_parts", "enqueued")

    def __init__(self) -> None:
        self._parts: dict[type[Any], Any] = {}
        # Set by `shared.outbox.enqueue`: the request's dependency wakes the relay on commit.
        self.enqueued = False

    def get(self, kind: type[P]) -> P:
        """The part of this type, made with `kind()` if there is none yet."""
        part = self._parts.get(kind)
        if part is None:
            part = self._parts[kind] = kind()
        return cast(P, part)

    def find(self, kind: type[P]) -> P | None:
        """The part of this type, if any."""
        return cast("P | None", self._parts.get(kind))

    def put(self, part: object) -> None:
        """Make `part` the part of its type, replacing any other."""
        self._parts[type(part)] = part

    def pop(self, kind: type[P]) -> P | None:
        """Remove and return the part of this type, if any."""
        return cast("P | None", self._parts.pop(kind, None))


def unit_of(session: AsyncSession | Session) -> UnitOfWork:
    """The session's unit of work, begun on first use: the consumer runner's batch and the
    request's session get theirs as soon as code in them asks, as does a session a command or
    a test opens."""
    # The sync session's own `info`: AsyncSession's proxy property costs as much again, and a
    # consumer batch asks here a few dozen times per event.
    info = (session.sync_session if isinstance(session, AsyncSession) else session).info
    unit = info.get(_KEY)
    if unit is None:
        unit = info[_KEY] = UnitOfWork()
    return cast(UnitOfWork, unit)
