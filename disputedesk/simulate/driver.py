"""Replay a simulated world against intake's public HTTP API, in event-time order.

Intake stamps an escalation's `filed_at` with its clock; the driver moves a `ManualClock` to each
escalation's simulated time first, so simulated weeks pass in seconds while every event keeps
its own time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from disputedesk.simulate.generator import World
from disputedesk.simulate.outbound import Tally, post
from disputedesk.simulate.traffic import Send, TrafficOptions, plan_traffic
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
    tally: Tally = field(default_factory=Tally)


async def drive(
    world: World,
    client: httpx.AsyncClient,
    *,
    secrets: dict[str, str],
    clock: ManualClock,
    concurrency: int = 8,
    rate: float | None = None,
    traffic: TrafficOptions = TrafficOptions(),
) -> DriveResult:
    """Post every request of the world's traffic plan. Between two escalations, requests start
    in the plan's order, up to `concurrency` at a time (each return's own requests one after
    the other); an escalation goes alone, because it moves the shared clock, and so does a
    rapidroute batch spanning several returns. Requests start in time order as a real world's
    arrive: sending each return's whole story at once (as this did until 2026-12-05) put a
    return's delivery on day 4 before another's feed entry of day 1, and fraud counts in
    event time."""
    sends = plan_traffic(world, traffic, tag=str(world.seed)).sends
    result = DriveResult()
    started = time.monotonic()
    batch: list[Send] = []

    async def flush() -> None:
        gate = asyncio.Semaphore(concurrency)
        # Each return's latest request in flight: the next waits for it.
        latest_of: dict[str, asyncio.Task[None]] = {}

        async def one(send: Send, before: asyncio.Task[None] | None) -> None:
            try:
                if before is not None:
                    await before
                await _post(client, secrets, clock, result, send)
            finally:
                gate.release()

        tasks = []
        for item in batch:
            await gate.acquire()
            rid = item.return_ids[0]
            task = asyncio.create_task(one(item, latest_of.get(rid)))
            latest_of[rid] = task
            tasks.append(task)
        await asyncio.gather(*tasks)
        batch.clear()

    if rate is not None:
        # Paced: one request after another at `rate` per second, to measure latency at a load
        # the services can sustain rather than at a burst.
        for i, send in enumerate(sends):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await _post(client, secrets, clock, result, send)
        result.wall_seconds = time.monotonic() - started
        return result
    for send in sends:
        if send.kind == "escalation" or len(send.return_ids) > 1:
            await flush()
            await _post(client, secrets, clock, result, send)
        else:
            batch.append(send)
    await flush()
    result.wall_seconds = time.monotonic() - started
    return result


async def _post(
    client: httpx.AsyncClient,
    secrets: dict[str, str],
    clock: ManualClock,
    result: DriveResult,
    send: Send,
) -> None:
    if send.kind == "escalation":
        clock.set(send.at)
    reply = await post(client, send, secrets, sent_at=int(clock.now().timestamp()))
    result.tally.record(send, reply)
    if reply.ok:
        if send.kind == "webhook":
            result.accepted_events += int(reply.payload.get("accepted", 0))
        elif send.kind == "return":
            result.accepted_events += 1
            result.return_event_ids[send.return_ids[0]] = reply.payload["event_id"]
        elif send.kind == "escalation":
            result.accepted_events += 1
            escalation_id = reply.payload["escalation_id"]
            result.escalations[send.return_ids[0]] = escalation_id
            result.escalation_posted[escalation_id] = time.time()
    else:
        result.rejected.append((send.kind, reply.status, reply.problem))


def latest(values: list[datetime]) -> datetime | None:
    return max(values) if values else None
