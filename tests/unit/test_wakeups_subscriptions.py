"""A channel subscribed to at any moment of the LISTEN connection's life is listened to and fired
once its LISTEN is on: a loop or cache that trusts its notifications (the partner directory keeps
its entries while it hears the registry) must not subscribe into a gap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared import wakeups as wakeups_module
from shared.wakeups import Wakeups


class FakeConnection:
    def __init__(self, during_first_listen: Any = None) -> None:
        self.listened: list[str] = []
        self._during_first_listen = during_first_listen

    async def add_listener(self, channel: str, callback: Any) -> None:
        if self._during_first_listen is not None:
            hook, self._during_first_listen = self._during_first_listen, None
            hook()
        await asyncio.sleep(0)
        self.listened.append(channel)

    def add_termination_listener(self, callback: Any) -> None:
        pass

    def is_closed(self) -> bool:
        return False

    def terminate(self) -> None:
        pass


async def _connected(wakeups: Wakeups, connection: FakeConnection, monkeypatch: Any) -> None:
    async def connect(*_: Any, **__: Any) -> FakeConnection:
        return connection

    monkeypatch.setattr(wakeups_module.asyncpg, "connect", connect)


async def test_a_channel_subscribed_while_the_connection_listens_is_listened_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wakeups = Wakeups("postgresql+asyncpg://unused/db")
    fired: list[str] = []
    wakeups.on("first", lambda: fired.append("first"))
    connection = FakeConnection(
        during_first_listen=lambda: wakeups.on("late", lambda: fired.append("late"))
    )
    await _connected(wakeups, connection, monkeypatch)
    runner = asyncio.create_task(wakeups.run())
    try:
        await asyncio.wait_for(wakeups.connected.wait(), 5)
        assert connection.listened == ["first", "late"]
        assert sorted(fired) == ["first", "late"]  # both fired once their LISTEN was on
        # Subscribed once connected: listened to, then fired.
        wakeups.on("after", lambda: fired.append("after"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert connection.listened[-1] == "after" and fired[-1] == "after"
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
