"""The end-to-end benchmark's sellers escalate only once intake accepted the delivery."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bench.e2e import traffic as traffic_module
from bench.e2e.watchers import Observations


class _Client:
    def __init__(self) -> None:
        self.sent_at: list[float] = []

    async def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> Any:
        self.sent_at.append(time.time())
        return type("Response", (), {"status_code": 201})()


class _Traffic:
    def escalation_request(self, _journey: Any) -> tuple[str, dict[str, str], bytes]:
        return "/v1/escalations", {}, b"{}"


async def _run(delivery_after_s: float | None) -> tuple[_Client, Observations, float]:
    client, obs, delivered = _Client(), Observations(), asyncio.Event()
    key = ("R-1", "DELIVERED_TO_SELLER")
    started = time.time()

    async def accept_delivery() -> None:
        if delivery_after_s is None:
            return
        await asyncio.sleep(delivery_after_s)
        obs.scan_accepted[key] = (time.time(), 0)
        delivered.set()

    accepted: list[float] = []
    await asyncio.gather(
        accept_delivery(),
        traffic_module._escalate(
            client, _Traffic(), obs, 0, None, delivered, key, lambda at, _r: accepted.append(at)
        ),
    )
    return client, obs, started


def test_the_escalation_waits_for_its_delivery_to_be_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(traffic_module, "ESCALATION_AFTER_DELIVERY_S", 0.2)
    client, obs, started = asyncio.run(_run(delivery_after_s=0.3))
    (sent,) = client.sent_at
    assert sent - obs.scan_accepted[("R-1", "DELIVERED_TO_SELLER")][0] >= 0.2 - 0.01
    assert sent - started >= 0.5 - 0.02
    assert obs.accepted[("escalation", 0)] == 1


def test_no_escalation_when_the_delivery_never_was_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_wait_for = asyncio.wait_for

    async def quick(aw: Any, timeout: float) -> Any:
        return await real_wait_for(aw, 0.05)

    monkeypatch.setattr(traffic_module.asyncio, "wait_for", quick)
    client, obs, _ = asyncio.run(_run(delivery_after_s=None))
    assert client.sent_at == []
    assert obs.errors == {"escalation not sent: its delivery was not accepted": 1}
