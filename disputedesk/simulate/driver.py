"""Replay a simulated world against intake's public HTTP API, in event-time order.

Intake stamps an escalation's `filed_at` with its clock; the driver moves a `ManualClock` to each
escalation's simulated time first, so simulated weeks pass in seconds while every event keeps
its own time.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from disputedesk.simulate.generator import Action, World
from disputedesk.simulate.partners import EMITTERS
from shared.clock import ManualClock


@dataclass(slots=True)
class DriveResult:
    accepted_events: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    # return_id -> escalation_id, and the wall time (monotonic) its POST returned
    escalations: dict[str, str] = field(default_factory=dict)
    escalation_posted: dict[str, float] = field(default_factory=dict)
    return_event_ids: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0


async def drive(
    world: World, client: httpx.AsyncClient, *, secrets: dict[str, str], clock: ManualClock,
    concurrency: int = 8, rate: float | None = None,
) -> DriveResult:
    """Post every action. Between two escalations, actions of different returns go out
    concurrently (each return's own actions stay in order); an escalation goes alone, because
    it moves the shared clock."""
    result = DriveResult()
    started = time.monotonic()
    batch: list[tuple[int, Action]] = []

    async def flush() -> None:
        by_return: dict[str, list[tuple[int, Action]]] = defaultdict(list)
        for item in batch:
            by_return[item[1].return_id].append(item)
        gate = asyncio.Semaphore(concurrency)

        async def one_return(items: list[tuple[int, Action]]) -> None:
            async with gate:
                for i, a in items:
                    await _post(world, client, secrets, clock, result, i, a)

        await asyncio.gather(*(one_return(v) for v in by_return.values()))
        batch.clear()

    if rate is not None:
        # Paced: one request after another at `rate` per second, to measure latency at a load
        # the services can sustain rather than at a burst.
        for i, action in enumerate(world.actions):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await _post(world, client, secrets, clock, result, i, action)
        result.wall_seconds = time.monotonic() - started
        return result
    for i, action in enumerate(world.actions):
        if action.kind == "escalation":
            await flush()
            await _post(world, client, secrets, clock, result, i, action)
        else:
            batch.append((i, action))
    await flush()
    result.wall_seconds = time.monotonic() - started
    return result


async def _post(
    world: World, client: httpx.AsyncClient, secrets: dict[str, str], clock: ManualClock,
    result: DriveResult, i: int, action: Action,
) -> None:
    feed = {"Authorization": f"Bearer {secrets['DISPUTEDESK_KEY_MARKETPLACE']}"}
    agent = {"Authorization": f"Bearer {secrets['DISPUTEDESK_KEY_OPS_AGENT']}"}
    if action.kind == "return":
        r = await client.post("/v1/returns", json=action.body, headers=feed)
        if r.status_code == 202:
            result.accepted_events += 1
            result.return_event_ids[action.return_id] = r.json()["event_id"]
    elif action.kind == "scan":
        path, headers, body = EMITTERS[action.partner_format](
            action.body, secrets, f"msg_{world.seed}_{i}", int(clock.now().timestamp()))
        r = await client.post(path, content=body, headers=headers)
        if r.status_code == 202:
            result.accepted_events += int(r.json().get("accepted", 0))
    else:
        clock.set(action.at)
        r = await client.post("/v1/escalations", json=action.body, headers=agent)
        if r.status_code == 201:
            result.accepted_events += 1
            result.escalations[action.return_id] = r.json()["escalation_id"]
            result.escalation_posted[r.json()["escalation_id"]] = time.time()
    if r.status_code >= 300:
        result.rejected.append((action.kind, r.status_code, r.text[:300]))


def latest(values: list[datetime]) -> datetime | None:
    return max(values) if values else None
