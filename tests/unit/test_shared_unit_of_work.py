"""The unit of work: typed per-transaction state, one per session, reached from the session or
from a consumer handler's context, and nothing left in `session.info` under loose string keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.envelope import Envelope
from shared.kafka.consumer import HandlerContext
from shared.unit_of_work import UnitOfWork, unit_of


@dataclass
class _Seen:
    ids: set[str] = field(default_factory=set)


@dataclass
class _Other:
    n: int = 0


def test_a_part_is_made_on_first_use_and_kept_by_its_type() -> None:
    unit = UnitOfWork()

    assert unit.find(_Seen) is None
    unit.get(_Seen).ids.add("RET-1")

    assert unit.get(_Seen).ids == {"RET-1"}
    assert unit.find(_Other) is None  # another type is another part


def test_put_replaces_and_pop_ends_a_part() -> None:
    unit = UnitOfWork()
    unit.put(_Other(n=3))

    assert unit.pop(_Other) == _Other(n=3)
    assert unit.pop(_Other) is None
    assert unit.find(_Other) is None


def test_one_unit_per_session_seen_from_async_and_sync_sides() -> None:
    session = AsyncSession()
    other = AsyncSession()

    assert unit_of(session) is unit_of(session.sync_session)
    assert unit_of(session) is not unit_of(other)
    assert unit_of(Session()) is not unit_of(session)


def test_the_handler_context_carries_the_unit_of_its_transaction() -> None:
    session = AsyncSession()
    envelope = Envelope(payload=cast(Any, None), source="test")
    first, second = (HandlerContext(session, envelope, "t") for _ in range(2))

    first.unit.get(_Other).n += 1

    assert second.unit.get(_Other).n == 1  # the batch's events share their transaction's unit
    assert first.unit is unit_of(session)


def test_the_session_info_holds_nothing_but_the_unit() -> None:
    session = AsyncSession()
    unit_of(session).get(_Seen)
    unit_of(session).enqueued = True

    assert len(session.info) == 1
