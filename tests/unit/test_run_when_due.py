"""The shared background loop (`shared.wakeups.run_when_due`): a round with work is followed
by another at once; otherwise it sleeps until the next due time, at most its safety interval,
or polls at that interval when it has no wake-up to listen for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import wakeups
from shared.wakeups import run_when_due, seconds_until

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def test_seconds_until_the_next_due_time() -> None:
    assert seconds_until(None, NOW, at_most_s=30) == 30
    assert seconds_until(NOW + timedelta(seconds=7), NOW, at_most_s=30) == 7
    assert seconds_until(NOW + timedelta(hours=2), NOW, at_most_s=30) == 30
    assert seconds_until(NOW + timedelta(milliseconds=20), NOW, at_most_s=30) == 0.1
    # Past due after a round that found nothing: another worker holds it; not a spin.
    assert seconds_until(NOW - timedelta(minutes=1), NOW, at_most_s=30) == 1.0
    assert seconds_until(NOW - timedelta(minutes=1), NOW, at_most_s=0.1) == 0.1


class _Stop(Exception):
    pass


async def _loop(
    monkeypatch: pytest.MonkeyPatch,
    results: list[bool],
    due: datetime | None,
    wakeup: asyncio.Event | None,
) -> tuple[int, list[float]]:
    """Runs the loop until its second sleep; returns the rounds run and the sleeps asked for."""
    sleeps: list[float] = []
    rounds = 0

    async def sleep(*args: Any) -> None:
        sleeps.append(args[-1])
        if len(sleeps) == 2:
            raise _Stop

    monkeypatch.setattr(wakeups, "wait_for_wakeup", sleep)
    monkeypatch.setattr(wakeups.asyncio, "sleep", sleep)

    async def work() -> bool:
        nonlocal rounds
        rounds += 1
        return results.pop(0) if results else False

    async def next_due() -> datetime | None:
        return due

    with pytest.raises(_Stop):
        await run_when_due(
            work, next_due, now=lambda: NOW, wakeup=wakeup, at_most_s=30, what="test"
        )
    return rounds, sleeps


async def test_work_is_followed_by_a_round_at_once_then_sleeps_until_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rounds, sleeps = await _loop(
        monkeypatch, [True, True], NOW + timedelta(seconds=4), asyncio.Event()
    )
    assert rounds == 4  # two with work, then two that found none
    assert sleeps == [4.0, 4.0]


async def test_without_a_wakeup_it_polls_at_its_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds, sleeps = await _loop(monkeypatch, [], NOW + timedelta(seconds=4), None)
    assert rounds == 2 and sleeps == [30, 30]


async def test_a_failed_round_sleeps_and_tries_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    async def failing() -> bool:
        nonlocal calls
        calls += 1
        raise ConnectionError("database away")

    sleeps: list[float] = []

    async def sleep(*args: Any) -> None:
        sleeps.append(args[-1])
        if len(sleeps) == 2:
            raise _Stop

    monkeypatch.setattr(wakeups, "wait_for_wakeup", sleep)

    async def next_due() -> datetime | None:
        return NOW

    with pytest.raises(_Stop):
        await run_when_due(
            failing, next_due, now=lambda: NOW, wakeup=asyncio.Event(), at_most_s=30, what="t"
        )
    assert calls == 2 and sleeps == [30, 30]
