"""The run: baselines, then each step's load, watching and draining, then the figures."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.e2e.baselines import bare_fastapi, kafka_round_trip, postgres_commits
from bench.e2e.cpu import CpuMeter
from bench.e2e.figures import highest_sustained, step_figures
from bench.e2e.report import _fmt_s
from bench.e2e.settings import (
    GOAL,
    GOAL_ESCALATIONS_PER_S,
    GOAL_P95_S,
    GOAL_PARTNER_EVENTS_PER_S,
    SERVICES,
    Settings,
)
from bench.e2e.system import Services, prepare_system
from bench.e2e.traffic import ClientPool, Traffic, run_step
from bench.e2e.watchers import BacklogProbe, BacklogSample, Observations, watch_mail, watch_topics

# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


async def measure(env: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:

    settings = Settings.from_env()
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    mail_dir = Path(env["MAIL_SINK_DIR"])
    started = time.monotonic()

    system = await prepare_system(env, log)
    secrets = system["secrets"]

    log("baselines: raw Kafka round trip, bare FastAPI endpoint, raw PostgreSQL commits")
    baselines = {
        "kafka": await kafka_round_trip(bootstrap),
        "bare_fastapi": await bare_fastapi(env, secrets),
        "postgres": await postgres_commits(system["urls"]["intake"]),
    }
    log(
        f"  kafka p50 {baselines['kafka']['round_trip']['p50_ms']} ms, "
        f"{baselines['kafka']['saturated_messages_per_s']:,.0f} msg/s; bare FastAPI "
        f"{baselines['bare_fastapi']['saturated_requests_per_s']:,.0f} req/s; postgres "
        f"{baselines['postgres']['commits_per_s_1_connection']:,.0f} commits/s (1 conn)"
    )

    from bench.notifications import _clear_sink

    mail_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    _clear_sink(mail_dir)

    services = Services(env, system, settings.ports())
    services.start()
    obs = Observations()
    stop = asyncio.Event()
    steps: list[dict[str, Any]] = []
    probe = BacklogProbe(bootstrap, services.urls)
    watchers: list[asyncio.Task[None]] = []
    traffic: Traffic | None = None
    idle_cpu: dict[str, float] = {}
    try:
        await services.ready()
        log(f"services healthy on {', '.join(services.urls.values())}")
        await probe.start()
        watchers = [
            asyncio.create_task(watch_topics(bootstrap, obs, stop)),
            asyncio.create_task(watch_mail(mail_dir, obs, stop)),
        ]
        traffic = Traffic(secrets, settings, uuid.uuid4().hex[:4].upper())
        async with ClientPool(services.urls["intake"]) as client:
            # Warm-up: connections, pools, first-use code paths, consumer groups joined.
            await run_step(client, traffic, obs, step=-1, multiplier=0.1, seconds=6)
            await _drain(probe, obs, -1, settings, log)
            # What the services cost with no traffic at all: a floor every step pays. Relays,
            # dispatchers and timers sleep until NOTIFY or their due time (safety intervals of
            # 5-30 s), so the window is long enough to include a few of those wake-ups, after
            # the warm-up's last work settled.
            await asyncio.sleep(3)
            idle_meter = CpuMeter(services)
            await asyncio.sleep(20)
            idle_cpu = {k: round(v, 3) for k, v in idle_meter.read().items()}
            log(
                "idle: "
                + ", ".join(f"{n} {idle_cpu.get(n, 0):.2f}" for n in (*SERVICES, "postgres"))
                + " cores"
            )
            for step, multiplier in enumerate(settings.multipliers):
                log(
                    f"step {step + 1}/{len(settings.multipliers)}: ×{multiplier:g} — "
                    f"{GOAL_PARTNER_EVENTS_PER_S * multiplier:g} partner events/s + "
                    f"{GOAL_ESCALATIONS_PER_S * multiplier:g} escalations/s for "
                    f"{settings.step_s:g} s"
                )
                samples: list[BacklogSample] = []
                sampling = asyncio.create_task(_sample_until(probe, samples, stop_after=None))
                meter = CpuMeter(services)
                window = await run_step(
                    client, traffic, obs, step=step, multiplier=multiplier, seconds=settings.step_s
                )
                during_load = meter.read()
                drain_s = await _drain(probe, obs, step, settings, log, samples=samples)
                whole_step = meter.read()
                sampling.cancel()
                await asyncio.gather(sampling, return_exceptions=True)
                figures = step_figures(
                    obs,
                    step=step,
                    multiplier=multiplier,
                    seconds=settings.step_s,
                    window=window,
                    samples=samples,
                    cpu=during_load,
                    cpu_whole_step=whole_step,
                )
                figures["drain_seconds_after_step"] = round(drain_s, 1)
                steps.append(figures)
                e = figures["escalation_to_decision_email"]
                log(
                    f"  accepted {figures['accepted']['requests_per_s']:.0f}/"
                    f"{figures['offered']['requests_per_s']:.0f} req/s; escalation→email p50 "
                    f"{_fmt_s(e['p50_ms'])} p95 {_fmt_s(e['p95_ms'])} p99 {_fmt_s(e['p99_ms'])} "
                    f"({e['count']} done, {e['missing']} missing); backlog slope "
                    f"{figures['backlog']['slope_messages_per_s']:+.1f}/s; "
                    f"{'sustained' if figures['sustained'] else 'NOT sustained'}"
                )
    finally:
        stop.set()
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        try:
            await probe.close()
        except Exception:
            pass
        services.stop()

    best = highest_sustained(steps)
    goal_step = next((s for s in steps if s["multiplier"] == 1.0), None)
    goal_p95 = goal_step["escalation_to_decision_email"]["p95_ms"] if goal_step else None
    kafka_p50 = baselines["kafka"]["round_trip"]["p50_ms"] or 0.0
    ratios: dict[str, Any] = {}
    if best:
        ratios["sustained_requests_per_s_to_bare_fastapi"] = round(
            best["accepted"]["requests_per_s"]
            / baselines["bare_fastapi"]["saturated_requests_per_s"],
            3,
        )
        ratios["sustained_requests_per_s_to_postgres_commits_1_connection"] = round(
            best["accepted"]["requests_per_s"]
            / baselines["postgres"]["commits_per_s_1_connection"],
            3,
        )
        p50 = best["escalation_to_decision_email"]["p50_ms"]
        if p50 and kafka_p50:
            ratios["e2e_p50_to_kafka_round_trip_p50"] = round(p50 / kafka_p50, 1)
    return {
        "benchmark": "end to end: webhook/escalation accepted → case decided → email in the sink",
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpu_count": os.cpu_count(),
            "note": "a shared machine: other processes may run beside it; compare ratios",
        },
        "settings": {
            "multipliers": list(settings.multipliers),
            "step_seconds": settings.step_s,
            "service_ports": settings.ports(),
            "partner_formats": traffic.formats if traffic else [],
            "goal_per_s": {
                "partner_events": GOAL_PARTNER_EVENTS_PER_S,
                "escalations": GOAL_ESCALATIONS_PER_S,
            },
            "requests_per_return": "1 feed entry + 3 partner scans (pickup, in transit, delivered)",
        },
        "baselines": baselines,
        "idle_cores_used": idle_cpu,
        "steps": steps,
        "highest_sustained": (
            {
                "multiplier": best["multiplier"],
                "partner_events_per_s": best["offered"]["partner_events_per_s"],
                "escalations_per_s": best["offered"]["escalations_per_s"],
            }
            if best
            else None
        ),
        "ratios": ratios,
        "errors": dict(obs.errors),
        "goal": GOAL,
        "goal_met": bool(
            goal_step
            and best
            and best["multiplier"] >= 1.0
            and goal_p95 is not None
            and goal_p95 <= GOAL_P95_S * 1000
        ),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


async def _sample_until(
    probe: BacklogProbe, samples: list[BacklogSample], *, stop_after: float | None
) -> None:
    while stop_after is None or time.time() < stop_after:
        try:
            samples.append(await probe.sample())
        except Exception:
            pass  # a missed sample is a gap in the curve, not a failed run
        await asyncio.sleep(1.0)


async def _drain(
    probe: BacklogProbe,
    obs: Observations,
    step: int,
    settings: Settings,
    log: Callable[[str], None],
    *,
    samples: list[BacklogSample] | None = None,
) -> float:
    """Wait until every escalation of the step has its decision email (or timed out) and the
    backlog is empty, at most max_drain_s: the next step starts from a quiet pipeline."""
    began = time.monotonic()
    while time.monotonic() - began < settings.max_drain_s:
        pending = [
            rid
            for rid, (at, s) in obs.escalation_accepted.items()
            if s == step and rid not in obs.decision_email and time.time() - at < settings.timeout_s
        ]
        latest = samples[-1] if samples else await probe.sample()
        if not pending and latest.total == 0:
            break
        await asyncio.sleep(1.0)
    return time.monotonic() - began
