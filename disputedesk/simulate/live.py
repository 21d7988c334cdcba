"""`disputedesk simulate`: a simulated marketplace's traffic against running services.

Intake's clock is the real one here, so simulated time is laid onto wall time. The simulator
plays the world forward one request every 1/`--rate` seconds (sooner only where the simulated
requests themselves lie closer together), so wall time never runs faster than simulated time;
each return's story is anchored so that it ends when the simulator reaches its last step, and every
time written into its requests (scan times, the feed's `initiated_at`) keeps its distance from
that end. Intake therefore sees every scan in the past, a seller's claim filed as long after
delivery as the seller took, and a partner signature made at the moment of sending.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from disputedesk.simulate.generator import World, generate
from disputedesk.simulate.marketplace import Marketplace
from disputedesk.simulate.outbound import Reply, Tally, post
from disputedesk.simulate.traffic import Send, TrafficOptions, TrafficPlan, plan_traffic

# Statuses a real partner retries after waiting: rate limited, or a dependency briefly away.
RETRYABLE = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class SimulationSettings:
    seed: int = 1
    sellers: int = 60
    buyers: int = 1500
    days: int = 14
    returns_per_day: float = 22.0
    rate: float = 20.0  # requests per second offered, on average
    traffic: TrafficOptions = field(
        default_factory=lambda: TrafficOptions(
            redeliver_fraction=0.05, out_of_order_fraction=0.05, feedback_fraction=0.3
        )
    )
    # Makes the ids of this run's sellers, buyers and returns unique in a database that has
    # seen earlier runs; the same seed and tag give the same world.
    tag: str = "sim"
    concurrency: int = 8
    # Requests before the first seller escalation (the feed and the scans of returns whose
    # claims come days later in the story) leave at this rate instead, when set: the desk has
    # nothing to decide until a claim arrives, and at `rate` the demo's first claim came only
    # after some 190 s of history.
    warmup_rate: float | None = None

    def marketplace(self) -> Marketplace:
        market = Marketplace(
            days=self.days, sellers=self.sellers, buyers=self.buyers, full_lifecycle=True
        )
        return replace(market, honest=replace(market.honest, returns_per_day=self.returns_per_day))


def demo_settings(seed: int, tag: str) -> SimulationSettings:
    """A small marketplace at a gentle pace: something to watch in the services' dashboards."""
    return SimulationSettings(
        seed=seed,
        sellers=20,
        buyers=300,
        days=7,
        returns_per_day=10.0,
        rate=3.0,
        # About 580 requests of history: some 25 s at this rate, so the desk console shows
        # decided cases within the first minute (the "living desk within a minute").
        warmup_rate=25.0,
        tag=tag,
        concurrency=4,
    )


@dataclass(frozen=True, slots=True)
class WallClockMap:
    """Simulated time onto wall time: `wall(t)` is when the request of simulated time `t` is
    sent; `__call__` is the time written into a return's requests."""

    # Knots of a non-decreasing piecewise-linear map whose slope is at most 1: simulated
    # seconds (from the first request) and wall seconds (from `wall_start`).
    sim_start: datetime
    wall_start: datetime
    sim_s: tuple[float, ...]
    wall_s: tuple[float, ...]
    story_end: dict[str, datetime]

    def wall(self, at: datetime) -> datetime:
        t = (at - self.sim_start).total_seconds()
        i = bisect.bisect_right(self.sim_s, t) - 1
        if i < 0:
            offset = t  # before the first request: simulated pace
        elif i == len(self.sim_s) - 1:
            offset = self.wall_s[i] + (t - self.sim_s[i])
        else:
            step = self.sim_s[i + 1] - self.sim_s[i]
            share = (t - self.sim_s[i]) / step if step > 0 else 0.0
            offset = self.wall_s[i] + share * (self.wall_s[i + 1] - self.wall_s[i])
        return self.wall_start + timedelta(seconds=offset)

    def __call__(self, return_id: str, at: datetime) -> datetime:
        end = self.story_end.get(return_id, at)
        # Never later than the moment it is sent: the map's slope is at most 1.
        return self.wall(end) - (end - at)

    @property
    def wall_seconds(self) -> float:
        return self.wall_s[-1] if self.wall_s else 0.0


def wall_clock_map(
    world: World,
    plan: TrafficPlan,
    *,
    rate: float,
    wall_start: datetime,
    warmup_rate: float | None = None,
) -> WallClockMap:
    sim_start = plan.sends[0].at
    sim_s: list[float] = []
    wall_s: list[float] = []
    warming = warmup_rate is not None
    for send in plan.sends:
        warming = warming and send.kind != "escalation"
        pace = warmup_rate if warming and warmup_rate else rate
        t = (send.at - sim_start).total_seconds()
        if sim_s:
            wall = wall_s[-1] + min(1.0 / pace, t - sim_s[-1])
        else:
            wall = 0.0
        if sim_s and t == sim_s[-1]:
            continue  # requests of the same instant leave together
        sim_s.append(t)
        wall_s.append(wall)
    story_end: dict[str, datetime] = {}
    for action in world.actions:
        story_end[action.return_id] = max(action.at, story_end.get(action.return_id, action.at))
    return WallClockMap(sim_start, wall_start, tuple(sim_s), tuple(wall_s), story_end)


@dataclass(slots=True)
class LiveRun:
    world: World
    plan: TrafficPlan
    clock_map: WallClockMap


def prepare(
    settings: SimulationSettings,
    *,
    wall_start: datetime | None = None,
    market: Marketplace | None = None,
) -> LiveRun:
    """Generate the world (of `market`, else the settings' own) and lay its traffic onto wall
    time starting at `wall_start` (default: in a second)."""
    world = generate(market or settings.marketplace(), settings.seed, tag=settings.tag)
    # Planned once on simulated time to learn its size and span, then again with the map.
    draft = plan_traffic(world, settings.traffic, tag=settings.tag)
    start = wall_start or datetime.now(UTC) + timedelta(seconds=1)
    clock_map = wall_clock_map(
        world, draft, rate=settings.rate, wall_start=start, warmup_rate=settings.warmup_rate
    )
    plan = plan_traffic(world, settings.traffic, time_map=clock_map, tag=settings.tag)
    return LiveRun(world, plan, clock_map)


def ground_truth_json(run: LiveRun, settings: SimulationSettings) -> dict[str, Any]:
    truth = run.world.truth.to_json()
    return {
        "seed": settings.seed,
        "tag": settings.tag,
        "marketplace": {
            "sellers": settings.sellers,
            "buyers": settings.buyers,
            "days": settings.days,
            "returns_per_day": settings.returns_per_day,
        },
        "note": "first_event times are simulated; the requests carry them moved onto wall "
        "time, each return's story ending when it was sent",
        "sellers": sorted(run.world.truth.sellers),
        "buyers": len(run.world.truth.buyers),
        **truth,
    }


def write_ground_truth(path: Path, runs: list[tuple[LiveRun, SimulationSettings]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    worlds = [ground_truth_json(run, s) for run, s in runs]
    path.write_text(json.dumps(worlds[0] if len(worlds) == 1 else {"worlds": worlds}, indent=1))


Progress = Callable[[Send, Reply | None], None]


async def send_plan(
    run: LiveRun,
    client: httpx.AsyncClient,
    secrets: dict[str, str],
    *,
    tally: Tally,
    concurrency: int = 8,
    paced: bool = True,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Send the plan, each request at its wall time (or at once, unpaced). Requests of different
    returns overlap, up to `concurrency` in flight; a return's own requests keep their order."""
    gate = asyncio.Semaphore(concurrency)
    last: dict[str, asyncio.Task[None]] = {}
    pending: set[asyncio.Task[None]] = set()

    async def one(send: Send, before: list[asyncio.Task[None]]) -> None:
        try:
            if before:
                await asyncio.gather(*before)
            reply = await _post_with_retries(client, send, secrets)
            if reply is None:
                tally.record_unreachable(send)
            else:
                tally.record(send, reply)
            if progress is not None:
                progress(send, reply)
        finally:
            gate.release()

    for send in run.plan.sends:
        if stop is not None and stop.is_set():
            break
        if paced:
            delay = run.clock_map.wall(send.at).timestamp() - time.time()
            if delay > 0:
                if stop is None:
                    await asyncio.sleep(delay)
                else:
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=delay)
                        break
                    except TimeoutError:
                        pass
        await gate.acquire()
        before = [last[r] for r in send.return_ids if r in last and not last[r].done()]
        task = asyncio.create_task(one(send, before))
        for r in send.return_ids:
            last[r] = task
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)


async def _post_with_retries(
    client: httpx.AsyncClient, send: Send, secrets: dict[str, str]
) -> Reply | None:
    """As a partner or the marketplace would: wait and try again on 429/5xx or no connection.
    A retried webhook is signed afresh and intake deduplicates it."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            reply = await post(client, send, secrets, sent_at=int(time.time()))
        except httpx.TransportError:
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
            continue
        if reply.status not in RETRYABLE or attempt == MAX_ATTEMPTS - 1:
            return reply
        await asyncio.sleep(min(8.0, reply.retry_after or 0.5 * 2**attempt))
    return None
