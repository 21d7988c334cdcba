"""Reconciliation benchmark: decisions per second from a backlog of ready cases, beside the raw
consumer rate of the foundation benchmark (bench/backbone.py) measured in the same run.

A "ready case" has every fact stored (return, pickup and delivery scans, the seller's escalation
with its evidence) and waits only for its fraud assessment — the last fact the SOP needs. The
backlog is N `FraudAssessed` events pre-loaded into a fresh topic; then:
  raw       the foundation's raw baseline: aiokafka producer → consumer through one partition
            (`bench.backbone.raw_rate`), measured before and after the engine; the better of the
            two is the denominator, so a noisy neighbour cannot flatter the ratio;
  engine    the reconciliation app consumes the backlog: inbox, fact storage, the SOP, the
            decision, ledger postings, case events in the outbox, all committed. Timed like the
            foundation's consumer: from the first batch's transaction (the inbox's earliest
            `handled_at`) to the moment every decision is seen committed, so joining the
            consumer group is not counted (the raw baseline joins none).
The seed's own case events (each case's opening) are marked published before the engine
starts: they were published when the cases opened, and the engine's relay is to publish the
decisions' events alone (until 2026-12-04 it also published the seed's, as many rows again).

Besides the rates: the process's CPU per decision, PostgreSQL's (the local server's postmaster
and every backend, `postgres_cpu_ms_per_decision`), the cores the two kept busy between them
(`cores_busy_while_deciding`: their CPU over the wall time), and each consumer transaction of
the engine with its events and the time to the next one (`polls`, from the inbox's
`handled_at`, the transaction's start).
Also reported: the old figures (first to last `decided_at`, wall time from the app's start) and
how fast a plain consumer drains the same backlog (`backlog_drain`). That drain reads a few
already-written fetches from six partitions, so for a couple of thousand messages it measures
one or two fetch round trips, and moves by a factor of five between runs on a shared machine;
it is no longer the denominator.

The engine reads and publishes only the run's own topics (`bench.recon.<run>.…`: its consumers'
topics by name, its outbox relay's through `outbox_topic_prefix`) and joins no live consumer
group, so a run on a stack that services or tests share leaves their topics alone.

Run alone: `PYTHONPATH=$PWD python bench/reconciliation.py` (brings up the local stack from the
DISPUTEDESK_* environment). BENCH_RECON_CASES sets N (default 1000); BENCH_EVENTS the raw
baseline's message count (default 10000, as in the backbone section).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
CASES = int(os.environ.get("BENCH_RECON_CASES", "1000"))
STALL_S = 10.0
RAW_EVENTS = int(os.environ.get("BENCH_EVENTS", "10000"))
DATABASE = "bench_reconciliation"


_PROGRESS = (
    "SELECT (SELECT count(*) FROM cases WHERE state = 'CLOSED'), (SELECT count(*) FROM inbox)"
)


def _stack_env() -> tuple[dict[str, str], Any]:
    """The stack's environment with a fresh, migrated bench database, and the PostgreSQL
    server's process (None when the database is external)."""
    from disputedesk.stack import Stack

    # Only the stack's own settings: connection URLs exported by `python -m bench` describe this
    # same stack and would otherwise make it look external.
    environ = {k: v for k, v in os.environ.items() if k.startswith("DISPUTEDESK_")}
    environ.setdefault("DISPUTEDESK_STATE_DIR", str(ROOT / ".state" / "bench"))
    stack = Stack.from_env(environ)
    env = dict(stack.up())
    stack.apply_topics(env)
    stack.postgres.drop_database(DATABASE)
    stack.postgres.create_database(DATABASE)
    env["RECONCILIATION_DATABASE_URL"] = stack.postgres.database_url(DATABASE)
    from shared.migrations import upgrade

    upgrade("reconciliation", env["RECONCILIATION_DATABASE_URL"])
    return env, stack.postgres.process()


def _postgres_cpu_s(server: Any) -> float | None:
    """CPU seconds the PostgreSQL server has used so far: the postmaster, its live backends and
    helpers, and those that have exited (the postmaster reaps them, so they count in its
    children's times). None without a local server."""
    if server is None:
        return None
    import psutil

    try:
        times = server.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in server.children(recursive=True):
            try:
                child_times = child.cpu_times()
            except psutil.NoSuchProcess:  # exited since the listing: its time is in the above
                continue
            total += child_times.user + child_times.system
    except psutil.Error:
        return None
    return total


async def _mark_seed_published(sessionmaker: Any) -> int:
    """The seeded cases' own events (opened, updated) were published when the cases opened:
    the engine's relay is to publish the decisions' events, not the seed's."""
    async with sessionmaker() as session, session.begin():
        marked = await session.execute(
            text("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
        )
    return int(marked.rowcount)


async def _polls(sessionmaker: Any) -> list[dict[str, Any]]:
    """The engine's consumer transactions, read from the inbox (`poll_spans`)."""
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT handled_at, count(*) FROM inbox WHERE outcome = 'handled'"
                    " GROUP BY handled_at ORDER BY handled_at"
                )
            )
        ).all()
        last = (await session.execute(text("SELECT max(decided_at) FROM cases"))).scalar()
    return poll_spans([(at, events) for at, events in rows], last)


def poll_spans(
    started: list[tuple[datetime, int]], last_decision: datetime | None
) -> list[dict[str, Any]]:
    """Each consumer transaction's events and span. Every event a transaction handled has its
    start time in the inbox (`handled_at` is `now()`), so `started` holds one (start, events)
    per transaction, in order; the next one's start ends a transaction's span, the last
    decision the last one's."""
    spans = []
    for i, (at, events) in enumerate(started):
        ends = started[i + 1][0] if i + 1 < len(started) else last_decision
        span_ms = round((ends - at).total_seconds() * 1000, 1) if ends is not None else None
        spans.append({"events": events, "ms_to_next": span_ms})
    return spans


async def _seed_ready_cases(sessionmaker: Any, n: int) -> list[Any]:
    """Store every fact but the fraud score for n returns; return the escalation envelopes."""
    from services.reconciliation.cases import service
    from services.reconciliation.facts import repository as facts
    from shared.envelope import Envelope
    from tests.support.reconciliation import T0, escalation, return_initiated, scan

    # Real time: the cases' fraud-wait timers (5 min) must not come due during the run.
    now = datetime.now(UTC)
    envelopes = []
    for start in range(0, n, 250):
        async with sessionmaker() as session, session.begin():
            with session.no_autoflush:
                for i in range(start, min(start + 250, n)):
                    rid = f"RET-BENCH-{i:06d}-{uuid.uuid4().hex[:6]}"
                    partner = ("swiftship", "rapidroute", "desipost")[i % 3]
                    ret = return_initiated(rid, partner=partner)
                    await facts.store_return(session, ret, uuid.uuid4())
                    # The scans come from the return's own partner: another partner's scans are
                    # not facts of the return, and its case would wait for them forever.
                    delivered = T0 + timedelta(days=2)
                    for s in (
                        scan(rid, "PICKED_UP", T0, weight=1000, partner=partner),
                        scan(rid, "DELIVERED_TO_SELLER", delivered, weight=1000, partner=partner),
                    ):
                        await facts.store_scan(session, s, uuid.uuid4())
                    env = Envelope(
                        escalation(rid, claim=("DAMAGED", "USED_ITEM")[i % 2]), source="bench"
                    )
                    await service.on_escalation(
                        session,
                        escalation=env.payload,  # type: ignore[arg-type]
                        ce_id=env.id,
                        now=now,
                    )
                    envelopes.append(env)
    return envelopes


async def _produce(bootstrap: str, topic: str, envelopes: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send(topic, env.value(), key=env.key.encode(), headers=env.headers())
        await producer.flush()
    finally:
        await producer.stop()


async def _raw_consume(bootstrap: str, topic: str, n: int) -> float:
    """Seconds a plain consumer needs to drain n stored messages (from its first poll)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        while seen < n:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            seen += sum(len(records) for records in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def engine_settings(database_url: str, suffix: str) -> Any:
    """The engine's settings: every topic it reads and every topic its outbox publishes to is
    this run's own (`bench.recon.<suffix>.…`), so its decisions never reach the stack's live
    consumers (a run once left notifications 33,800 case events behind on a shared stack)."""
    from services.reconciliation.settings import ReconciliationSettings

    prefix = f"bench.recon.{suffix}."
    return ReconciliationSettings(
        database_url=database_url,
        consumer_group=f"bench-{suffix}",
        alerts_consumer_group=f"bench-{suffix}-alerts",
        returns_topic=f"{prefix}returns",
        assessments_topic=f"{prefix}assessments",
        deliveries_topic=f"{prefix}deliveries",
        alerts_topic=f"{prefix}alerts",
        outbox_topic_prefix=prefix,
        log_level="WARNING",
    )


def bench_topics(settings: Any) -> list[str]:
    """Every topic the engine with `settings` reads (with its dead-letter twin) or publishes to:
    the service creates none and waits until they exist."""
    from shared.kafka.admin import registry_topic_names

    read = [settings.returns_topic, settings.assessments_topic, settings.deliveries_topic]
    read.append(settings.alerts_topic)
    published = [settings.outbox_topic_prefix + name for name in registry_topic_names()]
    return [*(n for t in read for n in (t, f"{t}.dlq")), *published]


async def run() -> dict[str, Any]:
    from disputedesk import credentials

    # The seed seals each seller's address: development keys unless the environment names some.
    for key, value in credentials.development_at_rest_keys().items():
        os.environ.setdefault(key, value)
    env, postgres = await asyncio.to_thread(_stack_env)
    os.environ.update(env)
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]

    from services.reconciliation.app import create_app
    from shared.db import make_engine, make_sessionmaker
    from shared.kafka.admin import ensure_topics
    from tests.support.reconciliation import assessed

    suffix = uuid.uuid4().hex[:8]
    settings = engine_settings(env["RECONCILIATION_DATABASE_URL"], suffix)
    await ensure_topics(bootstrap, partitions=6, names=bench_topics(settings))

    engine = make_engine(env["RECONCILIATION_DATABASE_URL"], pool_size=4)
    sessionmaker = make_sessionmaker(engine)
    seed_started = time.perf_counter()
    escalations = await _seed_ready_cases(sessionmaker, CASES)
    seed_s = time.perf_counter() - seed_started
    seed_events = await _mark_seed_published(sessionmaker)
    async with sessionmaker() as session:
        # Every seeded case must wait for its assessment alone, or the run measures open cases.
        ready = (
            await session.execute(
                text(
                    "SELECT count(*) FROM cases"
                    " WHERE state = 'OPEN' AND waiting_for = 'FRAUD_ASSESSMENT'"
                )
            )
        ).scalar()
    if ready != CASES:
        raise RuntimeError(f"{CASES - ready} of {CASES} seeded cases wait for more than fraud")
    scores = [assessed(e) for e in escalations]
    from shared.envelope import Envelope

    await _produce(
        bootstrap, settings.assessments_topic, [Envelope(s, source="bench") for s in scores]
    )

    from bench.backbone import raw_rate

    raw_rates = [await raw_rate(bootstrap, RAW_EVENTS)]
    drain_s = await _raw_consume(bootstrap, settings.assessments_topic, CASES)

    # The progress query runs every 20 ms in this process, so its CPU counts in the engine's:
    # a bare asyncpg connection asks in one round trip, where a session took three (BEGIN,
    # the query, ROLLBACK), each through SQLAlchemy's statement machinery.
    watcher = await asyncpg.connect(engine.url.set(drivername="postgresql").render_as_string(False))
    app = create_app(settings)
    profiler = _start_profile()
    gc_time = _GcTime()
    gc.callbacks.append(gc_time)
    load_before = os.getloadavg()
    started = time.perf_counter()
    cpu_started = time.process_time()
    postgres_started = _postgres_cpu_s(postgres)
    all_committed_at = datetime.now(UTC)
    async with app.router.lifespan_context(app):
        deadline = started + 600
        # A case the SOP leaves open (waiting for a fact the backlog does not carry) is never
        # decided: once every event is handled and no decision came for STALL_S, stop waiting.
        progress = (-1, time.perf_counter())
        # The process's CPU once the app has started: what start-up cost (the app's connections,
        # the collector's one full pass over the start-up heap) is left out of the figure below.
        cpu_after_start, started_at = time.process_time(), datetime.now(UTC)
        while time.perf_counter() < deadline:
            closed, handled = await watcher.fetchrow(_PROGRESS)
            if closed == CASES:
                all_committed_at = datetime.now(UTC)
                break
            if closed != progress[0]:
                progress = (closed, time.perf_counter())
            elif handled >= CASES and time.perf_counter() - progress[1] > STALL_S:
                break
            await asyncio.sleep(0.02)
        wall_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        load_after = os.getloadavg()
        postgres_ended = _postgres_cpu_s(postgres)
        gc_time.frozen = gc.get_freeze_count()  # while the app runs (its shutdown thaws)
    gc.callbacks.remove(gc_time)
    await watcher.close()
    profile = _finish_profile(profiler)
    raw_rates.append(await raw_rate(bootstrap, RAW_EVENTS))
    async with sessionmaker() as session:
        first_batch_at = (await session.execute(text("SELECT min(handled_at) FROM inbox"))).scalar()
        first, last, closed = (
            await session.execute(
                text(
                    "SELECT min(decided_at), max(decided_at),"
                    " count(*) FILTER (WHERE state = 'CLOSED') FROM cases"
                )
            )
        ).one()
        unbalanced = (
            await session.execute(
                text(
                    "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries "
                    "GROUP BY transaction_id HAVING sum(amount) <> 0) t"
                )
            )
        ).scalar()
    polls = await _polls(sessionmaker)
    await engine.dispose()
    postgres_cpu_s = (
        postgres_ended - postgres_started
        if postgres_started is not None and postgres_ended is not None
        else None
    )

    steady_s = max((last - first).total_seconds(), 1e-9) if first and last else float("inf")
    raw_rate_best = max(raw_rates)
    steady_rate = (closed - 1) / steady_s if closed > 1 else 0.0
    wall_rate = closed / wall_s
    if closed != CASES and last is not None:
        # Not every case closed (the run stalled): the last decision ends the engine's time.
        all_committed_at = last
    engine_s = (
        max((all_committed_at - first_batch_at).total_seconds(), 1e-9)
        if first_batch_at
        else float("inf")
    )
    engine_rate = closed / engine_s
    result = {
        "benchmark": "reconciliation decisions from a backlog of ready cases",
        "measured_at": datetime.now(UTC).isoformat(),
        "cases": CASES,
        "decided": closed,
        "seeded_ready": ready,
        "ledger_unbalanced_transactions": unbalanced,
        "seed_seconds": round(seed_s, 2),
        "seed_events_marked_published": seed_events,
        "raw_consumer": {
            "baseline": "bench.backbone.raw_rate (producer -> consumer, one partition)",
            "events": RAW_EVENTS,
            "messages_per_s_before_and_after": [round(r, 1) for r in raw_rates],
            "messages_per_s": round(raw_rate_best, 1),
        },
        "backlog_drain": {
            "seconds": round(drain_s, 3),
            "messages_per_s": round(CASES / drain_s, 1),
        },
        "engine": {
            "seconds_first_batch_to_all_committed": round(engine_s, 3),
            "decisions_per_s": round(engine_rate, 1),
            "wall_seconds_from_start": round(wall_s, 3),
            "decisions_per_s_wall": round(wall_rate, 1),
            "steady_seconds_first_to_last_decision": round(steady_s, 3),
            "decisions_per_s_steady": round(steady_rate, 1),
        },
        # This process's CPU (the app, plus the 20 ms progress query on its own connection)
        # from the app's start until every case closed, per decision: the cost the ratio is
        # made of, less noisy than the rate on a shared machine. PostgreSQL's share is not in it.
        "process_cpu_seconds": round(cpu_s, 3),
        "process_cpu_ms_per_decision": round(1000 * cpu_s / closed, 3) if closed else None,
        # The same from the app's start on (the consumers have not joined their group yet):
        # the decisions' own CPU, the app's start-up left out.
        "process_cpu_ms_per_decision_after_start": (
            round(1000 * (cpu_started + cpu_s - cpu_after_start) / closed, 3)
            # Only if no batch was handled before: otherwise its decisions' CPU is left out too.
            if closed and first_batch_at is not None and first_batch_at > started_at
            else None
        ),
        # The PostgreSQL server's CPU over the same time (every backend: the engine's, the
        # progress query's, the relay's, and the server's own helpers), per decision. With the
        # process's, the CPU the decisions cost; against the wall time, how much of it the two
        # did at once (2 would be both cores busy all the time, 1 one core or strict turns).
        "postgres_cpu_seconds": round(postgres_cpu_s, 3) if postgres_cpu_s is not None else None,
        "postgres_cpu_ms_per_decision": (
            round(1000 * postgres_cpu_s / closed, 3)
            if postgres_cpu_s is not None and closed
            else None
        ),
        "cores_busy_while_deciding": (
            round((cpu_s + postgres_cpu_s) / wall_s, 2) if postgres_cpu_s is not None else None
        ),
        # The machine's 1-minute load average as the engine started and as it finished: on a
        # shared machine the rates follow it more than the code (the CPU figures less so).
        "load_average_1m": [round(load_before[0], 1), round(load_after[0], 1)],
        # Each consumer transaction of the engine: its events and the time to the next one.
        "polls": polls,
        # Python's cycle collector, by generation, over the same time: a sampling profiler
        # charges it to whichever line happened to allocate when it ran.
        "gc": gc_time.report(),
        "profile": profile,
        "ratio": round(engine_rate / raw_rate_best, 4),
        "ratio_wall": round(wall_rate / raw_rate_best, 4),
        # First to last decision: with the default 1,000 cases the run is two transactions of
        # 500, and the first pays the engine's warm-up (new connections, first statements).
        "ratio_steady": round(steady_rate / raw_rate_best, 4),
        "ratio_to_backlog_drain": round(engine_rate / (CASES / drain_s), 4),
        "goal_ratio": 0.3,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reconciliation.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


class _GcTime:
    """Collections and seconds spent in them per generation (a `gc.callbacks` entry)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self.full: list[float] = []  # each full collection's seconds, in order
        self.frozen = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            took = time.perf_counter() - self.started
            self.seconds[info["generation"]] += took
            self.collections[info["generation"]] += 1
            if info["generation"] == 2:
                self.full.append(round(took, 3))

    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            f"gen{g}": {"collections": self.collections[g], "seconds": round(self.seconds[g], 3)}
            for g in range(3)
        }
        report["gen2"]["each_seconds"] = self.full
        report["frozen_objects_while_running"] = self.frozen
        return report


def _start_profile() -> tuple[list[Any], Path] | None:
    """With BENCH_RECON_PROFILE=LABEL, py-spy samples this process while the engine runs
    (bench-results/profiles/LABEL/reconciliation-engine.txt, its summary and its flame graph,
    `.svg`, beside it: a second sampler, as py-spy writes one format a run)."""
    label = os.environ.get("BENCH_RECON_PROFILE")
    if not label:
        return None
    from bench.profile import _py_spy

    out = RESULTS / "profiles" / label / "reconciliation-engine.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    samplers = []
    for form, path in (("raw", out), ("flamegraph", out.with_suffix(".svg"))):
        command = [_py_spy(), "record", "--pid", str(os.getpid()), "--rate", "100"]
        command += ["--nonblocking", "--format", form, "--output", str(path)]
        samplers.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    return samplers, out


def _finish_profile(profiler: tuple[list[Any], Path] | None) -> dict[str, Any] | None:
    if profiler is None:
        return None
    samplers, out = profiler
    for process in samplers:
        process.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
    for process in samplers:
        process.wait(timeout=60)
    from bench.profile import summarise

    summary = summarise(out.read_text()) if out.exists() else None
    if summary is not None:
        out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    """`python -m bench reconciliation` passes the bench stack's env; its own stack otherwise."""
    result = asyncio.run(run())
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
