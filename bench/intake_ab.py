"""Intake's webhook, A against B in one run: CPU per request of intake built from different
checkouts (or settings), against the bare endpoint, the targets alternated round by round.

On a shared machine one run's CPU per request moves by tens of percent with the neighbours'
load, more than a single cut changes it; alternating the variants inside one run lets them share
that load. Each variant is a checkout (`git archive <rev> | tar -x -C DIR`) and optional
settings, all served at once, each on a fresh database of its own (`bench_intake_ab_<label>`,
so that each relay publishes its own variant's events); the driver and the bare endpoint are
this tree's (`bench/intake.py`). Intake is served as `disputedesk run` serves it (its HTTP
protocol and settings), or as the bare endpoint is with BENCH_INTAKE_SERVE=stock.

    BENCH_AB_VARIANTS='base=/tmp/base;cut=.:INTAKE_X=1' python bench/intake_ab.py

BENCH_AB_TARGETS (swiftship,rapidroute,desipost; also `feed` and `feed_keyed`, the
marketplace's feed entries without and with an `Idempotency-Key`, and `escalation`, an ops
agent's filings on announced returns), BENCH_AB_ROUNDS (4) ×
BENCH_AB_REQUESTS (400) per target at concurrency BENCH_AB_CONCURRENCY (16);
BENCH_AB_HEALTHZ=1 adds `GET /healthz` of each variant (the middleware stack with no work
behind it); BENCH_AB_PROFILE=DIR attaches py-spy to each variant (collapsed stacks in
DIR/<label>.txt). Prints one JSON line: CPU ms per request
and the ratio to the bare endpoint's, PostgreSQL's CPU ms per request over the same rounds (the
server and all its processes: only the round's variant and its relay use it meanwhile), and each
variant's outbox relay rounds (events, rounds that published, claims made) and the connections
opened to its database.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import intake as bench_intake  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_AB_ROUNDS", 4))
REQUESTS = int(os.environ.get("BENCH_AB_REQUESTS", 400))
TARGETS = os.environ.get("BENCH_AB_TARGETS", "swiftship,rapidroute,desipost").split(",")
PROFILE = os.environ.get("BENCH_AB_PROFILE")
# 16 keeps the process busy; a small number is a stream of webhooks, each arriving on its own.
CONCURRENCY = int(os.environ.get("BENCH_AB_CONCURRENCY", 16))


async def _healthz(base: str, n: int) -> int:
    """`n` GETs of /healthz at the same concurrency; how many answered 200."""
    import httpx

    left, ok = n, 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:

        async def worker() -> None:
            nonlocal left, ok
            while left > 0:
                left -= 1
                answer = await client.get("/healthz")  # awaited before `ok` is read
                ok += answer.status_code == 200

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return ok


async def _publish_latency(
    feed: Any, bootstrap: str, since: datetime
) -> dict[str, float | int | None]:
    """Request → Kafka for the events a variant's webhooks recorded since `since`: from the
    outbox row's `created_at` (the start of the webhook's statement) to the Kafka record's
    timestamp (stamped by the producer when the relay handed the message over). Both are read
    from outside the variant, so every checkout is timed the same way; each message is
    matched to its row by `ce_id`."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    rows = await feed.fetch(
        "SELECT ce_id::text AS ce_id, created_at, topic FROM outbox WHERE created_at >= $1", since
    )
    created = {row["ce_id"]: row["created_at"] for row in rows}
    topics = sorted({row["topic"] for row in rows})
    stamped: dict[str, int] = {}
    if topics:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in sorted(
                    consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
                )
            ]
            consumer.assign(partitions)
            start_ms = int(since.timestamp() * 1000) - 1000
            starts = await consumer.offsets_for_times(dict.fromkeys(partitions, start_ms))
            ends = await consumer.end_offsets(partitions)
            left = {tp for tp in partitions if starts[tp] is not None}
            for tp in partitions:
                if starts[tp] is None:
                    consumer.seek(tp, ends[tp])
                else:
                    consumer.seek(tp, starts[tp].offset)
            while left:
                batch = await consumer.getmany(timeout_ms=2000, max_records=5000)
                if not batch:
                    break
                for tp, records in batch.items():
                    for record in records:
                        ce_id = dict(record.headers).get("ce_id")
                        if ce_id is not None and ce_id.decode() in created:
                            stamped[ce_id.decode()] = record.timestamp
                        if record.offset + 1 >= ends[tp]:
                            left.discard(tp)
        finally:
            await consumer.stop()
    latencies = sorted(ms - created[ce_id].timestamp() * 1000 for ce_id, ms in stamped.items())

    def pct(p: float) -> float | None:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)
            if latencies
            else None
        )

    return {
        "events": len(created),
        "matched": len(latencies),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # a topic this consumer has not seen yet
    return set(consumer.partitions_for_topic(topic) or ())


def _spec() -> str:
    return os.environ["BENCH_AB_VARIANTS"]


def _variants(
    spec: str, server_env: dict[str, str], urls: dict[str, str]
) -> dict[str, bench_intake.Server]:
    out = {}
    for item in spec.split(";"):
        label, rest = item.split("=", 1)
        root, _, extra = rest.partition(":")
        settings = dict(kv.split("=", 1) for kv in extra.split(",") if kv)
        # `label=ROOT:BENCH_INTAKE_SERVE=stock` serves that variant stock in a production run:
        # the same code both ways in one run says what our protocol and settings cost.
        stock = settings.pop("BENCH_INTAKE_SERVE", bench_intake.SERVE) == "stock"
        held = {"LOG_LEVEL": "WARNING", "INTAKE_OUTBOX_POLL_INTERVAL_S": "3600"} if stock else {}
        out[label] = bench_intake.Server(
            "services.intake.app:create_app",
            {**server_env, "INTAKE_DATABASE_URL": urls[label], **held, **settings},
            Path(root).resolve(),
            stock=stock,
        )
    return out


async def measure() -> dict[str, Any]:
    import asyncpg
    from sqlalchemy.engine import make_url

    from bench.reconciliation import _postgres_cpu_s
    from disputedesk import credentials
    from disputedesk.stack import Stack
    from shared.migrations import upgrade

    stack = Stack.from_env()
    env = dict(stack.up())
    # Services no longer create topics: without them the relay never starts, and the variants'
    # CPU would leave out publishing what their webhooks wrote.
    stack.apply_topics(env)
    secrets, keyring = credentials.generate()
    # The marketplace's key, for the feed targets.
    keyring_file = Path(stack.settings.state_dir) / "bench_intake_ab_keyring.json"
    keyring_file.write_text(json.dumps(keyring))
    server_env = {
        "DISPUTEDESK_KEYRING_FILE": str(keyring_file),
        "KAFKA_BOOTSTRAP_SERVERS": env["KAFKA_BOOTSTRAP_SERVERS"],
        # As `make run` sets them (BENCH_INTAKE_SERVE=production) or held off (stock).
        **bench_intake.stock_settings(),
        # The feed's and the agent's keys get room above the load, as in the end-to-end
        # benchmark: a 429 would measure the limit, not the request (the limiter still runs).
        "RATE_LIMIT_OVERRIDES": json.dumps(
            {
                client: {"per_s": 100_000, "burst": 100_000}
                for client in ("marketplace", "agent.asha")
            }
        ),
        **credentials.at_rest_environment(os.environ, secrets),
    }
    # A database per variant: on a shared one every variant's relay was woken by every other's
    # commits and took the same publishing lock, so one variant's events were published (and
    # its CPU spent) by whichever process won, and the relay's cost could not be compared.
    urls: dict[str, str] = {}
    for label in ["bare", *(item.split("=", 1)[0] for item in _spec().split(";"))]:
        urls[label] = url = await bench_intake._fresh_database(
            env["INTAKE_DATABASE_URL"], f"bench_intake_ab_{label}"
        )
        await asyncio.to_thread(upgrade, "intake", url)
        await bench_intake._prepare_database(url, secrets)
    feeds = {
        label: await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        for label, url in urls.items()
    }
    variants = _variants(_spec(), server_env, urls)
    bare = bench_intake.Server(
        "bench.intake:bare_app", {**server_env, "INTAKE_DATABASE_URL": urls["bare"]}
    )
    makers = {
        "swiftship": lambda n: bench_intake.swiftship_requests(secrets["SWIFTSHIP_SECRET"], n),
        "rapidroute": lambda n: bench_intake.rapidroute_requests(secrets["RAPIDROUTE_SECRET"], n),
        "desipost": lambda n: bench_intake.desipost_requests(secrets["DESIPOST_API_KEY"], n),
        "feed": lambda n: bench_intake.feed_requests(secrets["DISPUTEDESK_KEY_MARKETPLACE"], n),
        "feed_keyed": lambda n: bench_intake.feed_requests(
            secrets["DISPUTEDESK_KEY_MARKETPLACE"], n, keyed=True
        ),
        "escalation": lambda n: bench_intake.escalation_requests(
            secrets["DISPUTEDESK_KEY_OPS_AGENT"], n
        ),
    }
    keys = [("bare", "swiftship"), *[(v, t) for t in TARGETS for v in variants]]
    if os.environ.get("BENCH_AB_HEALTHZ") == "1":
        keys += [("bare", "healthz"), *[(v, "healthz") for v in variants]]
    cpu = dict.fromkeys(keys, 0.0)
    # The stack's server serves the rounds one at a time: its CPU over a round is that round's
    # requests' (and its variant's relay publishing them), whatever intake's side costs.
    postgres = stack.postgres.process()
    postgres_cpu = dict.fromkeys(keys, 0.0)
    served = dict.fromkeys(keys, 0)
    failed = dict.fromkeys(keys, 0)
    spies: list[subprocess.Popen[bytes]] = []
    server: bench_intake.Server
    try:
        await asyncio.gather(bare.ready(), *(s.ready() for s in variants.values()))
        await bench_intake.closed_loop(bare.url, makers["swiftship"](200), CONCURRENCY)
        for label, server in variants.items():  # warm: connections, pools, code paths
            for target in TARGETS:
                warm = await bench_intake.announce(feeds[label], makers[target](200))
                await bench_intake.closed_loop(server.url, warm, CONCURRENCY)
        if PROFILE:
            for label, server in variants.items():
                spies.append(
                    subprocess.Popen(  # noqa: ASYNC220 (started once, before the rounds)
                        [str(ROOT / ".venv/bin/py-spy"), "record", "-r", "200", "-f", "raw"]
                        # Only while intake's thread holds the GIL: its own work, not its waits.
                        + ["--gil"]
                        + ["-o", f"{PROFILE}/{label}.txt", "-p", str(server.process.pid)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            await asyncio.sleep(1)
        measured_from = datetime.now(UTC)
        for n in range(ROUNDS):
            # Alternate the order too, so that no variant always follows the same one.
            order = keys if n % 2 == 0 else [keys[0], *reversed(keys[1:])]
            for key in order:
                label, target = key
                server = bare if label == "bare" else variants[label]
                if target == "healthz":
                    before = server.cpu_seconds()
                    ok = await _healthz(server.url, REQUESTS)
                    cpu[key] += server.cpu_seconds() - before
                    served[key] += REQUESTS
                    failed[key] += REQUESTS - ok
                    continue
                requests = makers[target](REQUESTS)
                if label != "bare":
                    requests = await bench_intake.announce(feeds[label], requests)
                before, postgres_before = server.cpu_seconds(), _postgres_cpu_s(postgres)
                print(f"round {n}: {label}/{target}", file=sys.stderr)
                stats = await bench_intake.closed_loop(server.url, requests, CONCURRENCY)
                cpu[key] += server.cpu_seconds() - before
                postgres_after = _postgres_cpu_s(postgres)
                if postgres_before is not None and postgres_after is not None:
                    postgres_cpu[key] += postgres_after - postgres_before
                served[key] += stats.requests
                failed[key] += stats.requests - stats.ok
        # The relay's rounds, each claiming with one scan of the unpublished-rows index (an
        # empty round too) and marking its rows with one `published_at` (its transaction's).
        rounds = {
            label: dict(
                await feeds[label].fetchrow(
                    "SELECT (SELECT count(*) FROM outbox) AS events,"
                    " (SELECT count(DISTINCT published_at) FROM outbox) AS publishing,"
                    " (SELECT idx_scan FROM pg_stat_user_indexes"
                    "   WHERE indexrelname = 'ix_outbox_unpublished') AS claims,"
                    # Connections opened to the variant's database over the whole run (the
                    # warm-up's included): each is a backend started, authenticated and its
                    # statements prepared again, PostgreSQL's CPU as much as intake's.
                    " (SELECT sessions FROM pg_stat_database"
                    "   WHERE datname = current_database()) AS connections,"
                    # Transactions that archived webhooks (the warm-up's included), and the
                    # webhooks archived: since group commit one statement may carry several.
                    " (SELECT count(DISTINCT xmin::text) FROM raw_requests) AS archive_commits,"
                    " (SELECT count(*) FROM raw_requests) AS archived"
                )
            )
            for label in variants
        }
        # Request → Kafka of every event the measured rounds recorded, per variant.
        for label in variants:
            rounds[label]["publish_latency"] = await _publish_latency(
                feeds[label], env["KAFKA_BOOTSTRAP_SERVERS"], measured_from
            )
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        bare.stop()
        for server in variants.values():
            server.stop()
        for feed in feeds.values():
            await feed.close()
    ms = {f"{a}/{b}": round(cpu[(a, b)] * 1000 / served[(a, b)], 3) for a, b in keys}
    postgres_ms = {
        f"{a}/{b}": round(postgres_cpu[(a, b)] * 1000 / served[(a, b)], 3)
        for a, b in keys
        if b != "healthz"
    }
    return {
        "cpu_ms_per_request": ms,
        "postgres_cpu_ms_per_request": postgres_ms,
        # Intake and PostgreSQL together: what the request costs the machine, whichever side
        # of the connection does the work.
        "with_postgres_ms_per_request": {k: round(ms[k] + v, 3) for k, v in postgres_ms.items()},
        # Each against the bare endpoint's answer to the same kind of request.
        "to_bare": {
            k: round(v / ms["bare/healthz" if k.endswith("/healthz") else "bare/swiftship"], 2)
            for k, v in ms.items()
        },
        "not_accepted": {f"{a}/{b}": failed[(a, b)] for a, b in keys},
        "relay_rounds": rounds,
        # How each variant was served (bench/intake.py, BENCH_INTAKE_SERVE): production or stock.
        "served": {label: server.served for label, server in variants.items()},
        "load_average": os.getloadavg(),
        "rounds": ROUNDS,
        "requests_per_round": REQUESTS,
        "concurrency": CONCURRENCY,
    }


if __name__ == "__main__":
    if PROFILE:
        Path(PROFILE).mkdir(parents=True, exist_ok=True)
    print(json.dumps(asyncio.run(measure())))
