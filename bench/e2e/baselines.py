"""Baselines, measured in the same run on the same machine: Kafka round trip, bare FastAPI,
PostgreSQL commits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.e2e.figures import latency_summary
from bench.e2e.settings import GOAL_ESCALATIONS_PER_S, GOAL_PARTNER_EVENTS_PER_S

# ---------------------------------------------------------------------------------------------
# Baselines, measured in the same run on the same machine
# ---------------------------------------------------------------------------------------------


async def kafka_round_trip(
    bootstrap: str, *, rate: float = 300, seconds: float = 5
) -> dict[str, Any]:
    """Produce at a fixed rate (acks=all, as the services' producers) and time each message
    until a plain consumer has it; plus the saturated rate of bench.backbone's raw path."""
    from aiokafka import AIOKafkaConsumer

    from bench.backbone import _topic, raw_rate
    from shared.kafka.producer import make_producer

    topic = await _topic(bootstrap)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    producer = make_producer(bootstrap, client_id="bench-e2e-rtt")
    await producer.start()
    n = int(rate * seconds)
    latencies: list[float] = []

    async def drain() -> None:
        while len(latencies) < n:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batches.values():
                latencies.extend(now - float(r.value or b"0") for r in records)

    reader = asyncio.create_task(drain())
    began = time.monotonic()
    try:
        for i in range(n):
            delay = began + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await producer.send(topic, str(time.time()).encode(), key=str(i).encode())
        await asyncio.wait_for(reader, 60)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    saturated = await raw_rate(bootstrap, 5000)
    return {
        "offered_per_s": rate,
        "round_trip": latency_summary(latencies),
        "saturated_messages_per_s": round(saturated, 1),
    }


async def bare_fastapi(env: dict[str, str], secrets: dict[str, str]) -> dict[str, Any]:
    """bench.intake's bare endpoint under uvicorn: saturated requests/s (closed loop) and
    latency at the goal's request rate (open loop)."""
    from bench.intake import Server, closed_loop, open_loop, swiftship_requests

    server = Server("bench.intake:bare_app", {"LOG_LEVEL": "WARNING"})
    try:
        await server.ready()
        await closed_loop(server.url, swiftship_requests(secrets["SWIFTSHIP_SECRET"], 100), 16)
        saturated = await closed_loop(
            server.url, swiftship_requests(secrets["SWIFTSHIP_SECRET"], 1500), 16
        )
        goal_requests_per_s = GOAL_PARTNER_EVENTS_PER_S * 4 / 3 + GOAL_ESCALATIONS_PER_S
        try:
            fixed = await open_loop(
                server.url,
                swiftship_requests(secrets["SWIFTSHIP_SECRET"], int(goal_requests_per_s * 3)),
                goal_requests_per_s,
            )
            at_goal: dict[str, Any] = {"p50_ms": fixed.p50_ms, "p99_ms": fixed.p99_ms}
        except Exception as exc:  # a starved machine: the figure is missing, not the run
            at_goal = {"error": repr(exc)}
    finally:
        server.stop()
    return {
        "saturated_requests_per_s": saturated.per_s,
        "at_goal_rate": {"offered_per_s": round(goal_requests_per_s, 1), **at_goal},
    }


async def postgres_commits(database_url: str, *, seconds: float = 3.0) -> dict[str, Any]:
    """Single-row INSERT + COMMIT per transaction over asyncpg: with one connection, and with
    eight at once (the services together hold about that many)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    kwargs = {
        "user": url.username,
        "password": url.password,
        "host": url.host,
        "port": url.port,
        "database": url.database,
    }
    setup = await asyncpg.connect(**kwargs)
    await setup.execute(
        "DROP TABLE IF EXISTS bench_e2e_commits;"
        "CREATE TABLE bench_e2e_commits (id bigserial PRIMARY KEY, body text NOT NULL)"
    )
    await setup.close()

    async def writer(deadline: float) -> int:
        conn = await asyncpg.connect(**kwargs)
        done = 0
        try:
            while time.monotonic() < deadline:
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_e2e_commits (body) VALUES ($1)", "x")
                done += 1
        finally:
            await conn.close()
        return done

    out = {}
    for connections in (1, 8):
        deadline = time.monotonic() + seconds
        counts = await asyncio.gather(*(writer(deadline) for _ in range(connections)))
        out[f"commits_per_s_{connections}_connection{'s' if connections > 1 else ''}"] = round(
            sum(counts) / seconds, 1
        )
    return out
