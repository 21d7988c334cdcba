"""The outbox relay publishing reconciliation's own case events, as a decision writes them.

`bench/consumer_cpu.py relay` publishes short ASCII documents of distinct keys; reconciliation's
relay publishes two case events a decision (decided, settled: one key, 2-2.5 KB, the wording's
₹ beyond ASCII). This driver replays the stored outbox rows of an engine run
(`dump` them from `bench_reconciliation` once, into $RELAY_ROWS, 5 MB, not kept here) through the relay of the
code on PYTHONPATH, as new rows of a fresh reconciliation database, to a topic of its own (6
partitions) on the bench stack's Kafka, and reports the process's CPU per published row.

  python relay_rows.py dump                   # the rows of the last engine run, to the file
  python relay_rows.py run                    # one measurement (the code on PYTHONPATH)
  python relay_rows.py compare base=DIR cut=DIR --rounds N   # alternating, in subprocesses
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROWS = Path(os.environ.get("RELAY_ROWS", "/tmp/rrelay-case-events.jsonl"))


def _stack() -> Any:
    from disputedesk.stack import Stack

    return Stack.from_env(dict(os.environ))


async def dump() -> None:
    import asyncpg

    url = _stack().postgres.database_url("bench_reconciliation").replace("+asyncpg", "")
    conn = await asyncpg.connect(url)
    rows = await conn.fetch(
        "SELECT ce_type, ce_source, ce_time, ce_subject, key, payload::text AS payload,"
        " traceparent FROM outbox WHERE ce_type LIKE '%case_decided%'"
        " OR ce_type LIKE '%case_settled%' ORDER BY id"
    )
    await conn.close()
    with ROWS.open("w") as out:
        for r in rows:
            out.write(json.dumps({**dict(r), "ce_time": r["ce_time"].isoformat()}) + "\n")
    print(f"{len(rows)} rows to {ROWS}")


async def run() -> dict[str, Any]:
    from datetime import datetime

    import asyncpg
    from aiokafka import AIOKafkaProducer

    from services.reconciliation.models import Outbox
    from shared.db import make_engine, make_sessionmaker
    from shared.heap import YOUNG_THRESHOLD
    from shared.kafka.admin import ensure_topics
    from shared.migrations import upgrade
    from shared.outbox import OutboxRelay

    import gc

    stack = _stack()
    name = "bench_relay_rows"
    stack.postgres.drop_database(name)
    stack.postgres.create_database(name)
    url = stack.postgres.database_url(name)
    await asyncio.to_thread(upgrade, "reconciliation", url)
    bootstrap = stack.env()["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"bench.cpu.relayrows.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, partitions=6, names=[topic])
    stored = [json.loads(line) for line in ROWS.read_text().splitlines()]
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    await conn.executemany(
        "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload,"
        " traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9)",
        [
            (
                uuid.uuid4(), r["ce_type"], r["ce_source"], datetime.fromisoformat(r["ce_time"]),
                r["ce_subject"], topic, r["key"], r["payload"], r["traceparent"],
            )
            for r in stored
        ],
    )
    await conn.close()
    engine = make_engine(url, pool_size=2)
    if os.environ.get("RELAY_ROWS_PRODUCER") == "default":
        # aiokafka's defaults (16 KB batches: about six case events a produce request), as
        # `bench/consumer_cpu.py relay` has it; relay-rows.json was measured so.
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    else:
        from shared.kafka.producer import make_producer

        # The services' own producer (idempotent, 256 KB batches): relay-rows-service.json.
        producer = make_producer(bootstrap, client_id="bench-relay-rows")
    await producer.start()
    relay = OutboxRelay(
        service="bench", sessionmaker=make_sessionmaker(engine), outbox_model=Outbox,
        producer=producer,
    )
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD)
    rounds = 0
    profile = os.environ.get("RELAY_ROWS_PROFILE")  # a pstats file of the publishing, when set
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        began, wall = time.process_time(), time.perf_counter()
        while await relay.publish_batch():
            rounds += 1
        cpu, elapsed = time.process_time() - began, time.perf_counter() - wall
        if profile:
            profiler.disable()
            profiler.dump_stats(profile)
    finally:
        await producer.stop()
        await engine.dispose()
    return {
        "rows": len(stored),
        "rounds": rounds,
        "cpu_ms_per_row": round(1000 * cpu / len(stored), 4),
        "wall_ms_per_row": round(1000 * elapsed / len(stored), 4),
    }


def compare(codes: list[tuple[str, str]], rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in codes}
    for _ in range(rounds):
        for label, code in codes:
            out = subprocess.run(
                [sys.executable, __file__, "run"],
                env=dict(os.environ, PYTHONPATH=code, LOG_LEVEL="WARNING"),
                cwd=code, capture_output=True, text=True, check=True,
            )
            runs[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(label, json.dumps(runs[label][-1]), file=sys.stderr)
    med = {label: statistics.median(r["cpu_ms_per_row"] for r in rs) for label, rs in runs.items()}
    first = med[codes[0][0]]
    return {
        "median_cpu_ms_per_row": med,
        "ratio_to_" + codes[0][0]: {k: round(v / first, 3) for k, v in med.items()},
        "runs": runs,
    }


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        asyncio.run(dump())
    elif sys.argv[1] == "run":
        print(json.dumps(asyncio.run(run())))
    else:
        args = [a for a in sys.argv[2:] if "=" in a]
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
        codes = [tuple(a.split("=", 1)) for a in args]
        print(json.dumps(compare(codes, rounds), indent=2))  # type: ignore[arg-type]
