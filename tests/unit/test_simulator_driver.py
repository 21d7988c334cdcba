"""fraud-eval's driver (disputedesk/simulate/driver.py): requests start in the plan's time
order, a few at a time, each return's one after the other. Fraud counts in event time, so a
driver that sent each return's whole story at once (a delivery of day 4 before another return's
feed entry of day 1) fed fraud a world out of order that no marketplace sends."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

import pytest

from disputedesk.simulate import Marketplace, driver, generate
from disputedesk.simulate.traffic import Send, plan_traffic
from shared.clock import ManualClock

CONCURRENCY = 8


async def test_requests_start_in_time_order_a_few_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = generate(Marketplace(days=6, sellers=20, buyers=300), 3)
    plan = plan_traffic(world, tag=str(world.seed)).sends
    position = {(s.kind, s.return_ids, s.at, s.partner_events): i for i, s in enumerate(plan)}
    started: list[int] = []
    in_flight: dict[str, int] = {}
    jitter = random.Random(5)

    async def post(
        client: Any, secrets: Any, clock: Any, result: Any, send: Send
    ) -> None:  # the HTTP request, faked: how long it takes varies
        rid = send.return_ids[0]
        assert not in_flight.get(rid), "a return's requests overlapped"
        in_flight[rid] = 1
        started.append(position[(send.kind, send.return_ids, send.at, send.partner_events)])
        await asyncio.sleep(jitter.uniform(0, 0.002))
        in_flight[rid] = 0

    monkeypatch.setattr(driver, "_post", post)
    await driver.drive(
        world,
        None,  # type: ignore[arg-type]
        secrets={},
        clock=ManualClock(datetime.fromisoformat("2026-01-05T00:00:00+00:00")),
        concurrency=CONCURRENCY,
    )
    assert sorted(started) == list(range(len(plan)))
    # Each request starts no later than CONCURRENCY places after its place in the plan.
    latest = -1
    for p in started:
        assert p > latest - CONCURRENCY - 1
        latest = max(latest, p)
