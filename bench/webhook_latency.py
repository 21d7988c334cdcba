"""A single swiftship webhook's latency while rapidroute's 500-scan batches arrive, against the
same webhooks on a quiet process: what group commit does to a small request behind a large one.

Intake groups the webhooks that arrive while a webhook statement is in flight into the next
one (`services/intake/partners/batching.py`). A 500-scan batch's statement takes far longer
than a single scan's, so a single webhook queued behind it waits for all of it. This measures
that wait: per variant, single swiftship webhooks at a steady rate (open loop, each timed from
when it was due), first alone, then while BENCH_WL_BATCH_CLIENTS clients each send a rapidroute
batch of 500 scans every BENCH_WL_BATCH_INTERVAL_S (0.5) seconds. Variants are served side by
side as in `bench/intake_ab.py` (a checkout and optional settings each, a database each),
alternated round by round.

    BENCH_WL_VARIANTS='base=/tmp/base;after=.' python bench/webhook_latency.py

BENCH_WL_SINGLES (150) webhooks per phase at BENCH_WL_RATE (15) per second, BENCH_WL_ROUNDS
(2), BENCH_WL_BATCH_CLIENTS (1). Prints one JSON line: each variant's single-webhook p50, p95
and p99 (ms) alone and behind batches, and the batches' own p50 and count.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import intake as bench_intake  # noqa: E402
from bench.intake_ab import _variants  # noqa: E402

SINGLES = int(os.environ.get("BENCH_WL_SINGLES", 150))
RATE = float(os.environ.get("BENCH_WL_RATE", 15))
ROUNDS = int(os.environ.get("BENCH_WL_ROUNDS", 2))
BATCH_CLIENTS = int(os.environ.get("BENCH_WL_BATCH_CLIENTS", 1))
# Each batch client sends one batch this often (the next at once if one took longer), so that
# every variant meets the same batches whatever its speed.
BATCH_INTERVAL_S = float(os.environ.get("BENCH_WL_BATCH_INTERVAL_S", 0.5))


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "n": len(ordered)}


async def _singles(url: str, requests: list[bench_intake.Request]) -> tuple[list[float], int]:
    """Each request sent when it is due (RATE a second), timed from then; (latencies, not
    accepted)."""
    import httpx

    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        began = time.perf_counter()

        async def one(i: int, partner: str, body: bytes, headers: dict[str, str]) -> None:
            nonlocal failed
            due = began + i / RATE
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            r = await client.post(f"/v1/webhooks/{partner}", content=body, headers=headers)
            latencies.append(time.perf_counter() - due)
            failed += r.status_code != 202

        await asyncio.gather(*(one(i, *req) for i, req in enumerate(requests)))
    return latencies, failed


async def _batches(
    url: str, feed: Any, secret: str, stop: asyncio.Event
) -> tuple[list[float], int]:
    """Rapidroute batches of BATCH_SIZE scans, one each BATCH_INTERVAL_S, until `stop`."""
    import httpx

    latencies: list[float] = []
    failed = 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        while not stop.is_set():
            due = time.perf_counter() + BATCH_INTERVAL_S
            [(partner, body, headers)] = await bench_intake.announce(
                feed,
                bench_intake.rapidroute_requests(secret, 1, events=bench_intake.BATCH_SIZE),
            )
            started = time.perf_counter()
            r = await client.post(f"/v1/webhooks/{partner}", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            failed += r.status_code != 202
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
    return latencies, failed


async def measure() -> dict[str, Any]:
    import asyncpg
    from sqlalchemy.engine import make_url

    from disputedesk import credentials
    from disputedesk.stack import Stack
    from shared.migrations import upgrade

    stack = Stack.from_env()
    env = dict(stack.up())
    stack.apply_topics(env)
    secrets, keyring = credentials.generate()
    keyring_file = Path(stack.settings.state_dir) / "bench_webhook_latency_keyring.json"
    keyring_file.write_text(json.dumps(keyring))
    server_env = {
        "DISPUTEDESK_KEYRING_FILE": str(keyring_file),
        "KAFKA_BOOTSTRAP_SERVERS": env["KAFKA_BOOTSTRAP_SERVERS"],
        "LOG_LEVEL": "WARNING",
        "INTAKE_OUTBOX_POLL_INTERVAL_S": "3600",
        **credentials.at_rest_environment(os.environ, secrets),
    }
    spec = os.environ["BENCH_WL_VARIANTS"]
    labels = [item.split("=", 1)[0] for item in spec.split(";")]
    urls: dict[str, str] = {}
    for label in labels:
        urls[label] = url = await bench_intake._fresh_database(
            env["INTAKE_DATABASE_URL"], f"bench_webhook_latency_{label}"
        )
        await asyncio.to_thread(upgrade, "intake", url)
        await bench_intake._prepare_database(url, secrets)
    feeds = {
        label: await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        for label, url in urls.items()
    }
    variants = _variants(spec, server_env, urls)
    swiftship, rapidroute = secrets["SWIFTSHIP_SECRET"], secrets["RAPIDROUTE_SECRET"]
    phases = ("alone", "behind_batches")
    singles: dict[tuple[str, str], list[float]] = {(v, p): [] for v in variants for p in phases}
    batches: dict[str, list[float]] = {v: [] for v in variants}
    failed = dict.fromkeys(variants, 0)
    try:
        await asyncio.gather(*(s.ready() for s in variants.values()))
        for label, server in variants.items():  # warm: connections, pools, code paths
            warm = await bench_intake.announce(
                feeds[label], bench_intake.swiftship_requests(swiftship, 100)
            )
            await bench_intake.closed_loop(server.url, warm, 4)
        for n in range(ROUNDS):
            order = list(variants) if n % 2 == 0 else list(reversed(variants))
            for label in order:
                server = variants[label]
                for phase in phases:
                    print(f"round {n}: {label} {phase}", file=sys.stderr)
                    requests = await bench_intake.announce(
                        feeds[label], bench_intake.swiftship_requests(swiftship, SINGLES)
                    )
                    stop = asyncio.Event()
                    senders = [
                        asyncio.create_task(_batches(server.url, feeds[label], rapidroute, stop))
                        for _ in range(BATCH_CLIENTS if phase == "behind_batches" else 0)
                    ]
                    if senders:
                        await asyncio.sleep(0.5)  # the first batch in flight
                    latencies, not_accepted = await _singles(server.url, requests)
                    stop.set()
                    for sender in senders:
                        sent, batch_failed = await sender
                        batches[label] += sent
                        failed[label] += batch_failed
                    singles[(label, phase)] += latencies
                    failed[label] += not_accepted
    finally:
        for server in variants.values():
            server.stop()
        for feed in feeds.values():
            await feed.close()
    return {
        "single_swiftship_ms": {
            f"{label}/{phase}": _percentiles(values) for (label, phase), values in singles.items()
        },
        "batch_of_500_ms": {
            label: _percentiles(values) for label, values in batches.items() if values
        },
        "not_accepted": failed,
        "rate_per_s": RATE,
        "batch_clients": BATCH_CLIENTS,
        "batch_interval_s": BATCH_INTERVAL_S,
        "rounds": ROUNDS,
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure())))
