"""Notifications benchmark: emails per second from a backlog of case events to the SMTP sink,
beside a raw aiosmtplib send loop to the same sink in the same run.

  raw        pre-built messages sent one after another over one reused aiosmtplib connection
             (the baseline; the fastest a single sender gets to this server);
  raw_each   aiosmtplib.send per message (a new connection each time), for reference;
  service    N CaseOpened events pre-loaded on reconciliation.cases.v1, then the notifications
             service (consumer → render → messages row → dispatcher → SMTP → attempt row and
             NotificationSent outbox row) until N emails are in the sink.

The sink's folder is emptied before each measurement (the bench's own stack in `make bench`).
Run alone: `python -m bench.notifications` (uses the stack in $DISPUTEDESK_STATE_DIR), or via
`python -m bench notifications`. Writes bench-results/notifications.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

ROOT = Path(__file__).resolve().parent.parent
GOAL = "service >= 0.5 of raw (one reused connection) emails/s, median of paired rounds"


def _clear_sink(directory: Path) -> None:
    """Empty the sink folder between measurements: counting arrivals lists the folder, and a
    folder of thousands of old files would make that cost CPU the service under test shares."""
    for entry in os.scandir(directory):
        if entry.name.endswith(".eml"):
            os.unlink(entry.path)


def _count_mail(directory: Path) -> int:
    try:
        return sum(1 for e in os.scandir(directory) if e.name.endswith(".eml"))
    except FileNotFoundError:
        return 0


async def _wait_for_mail(directory: Path, target: int, timeout: float = 600.0) -> float:
    deadline = time.monotonic() + timeout
    while _count_mail(directory) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{_count_mail(directory)} of {target} emails in {directory}")
        await asyncio.sleep(0.05)
    return time.monotonic()


def _messages(n: int) -> list[bytes]:
    from services.notifications.catalogue import samples
    from services.notifications.channels.base import OutgoingMessage
    from services.notifications.channels.smtp import SmtpChannel
    from services.notifications.messages.composing import compose_case_event
    from services.notifications.messages.rendering import render
    from services.notifications.settings import NotificationsSettings

    settings = NotificationsSettings()
    channel = SmtpChannel(settings)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        event = samples.case_opened(f"CASE-RAW-{i:06d}", now, seller_email="bench@example.com")
        draft = compose_case_event(
            event, settings, now=now, seller_address="bench@example.com"
        ).drafts[0]
        rendered = render(draft.template, draft.context)
        out.append(
            channel.build(
                OutgoingMessage(
                    uuid.uuid4(), draft.recipient, rendered.subject, rendered.text, rendered.html
                )
            )
        )  # built before the clock starts: the baseline pays for sending only
    return out


async def raw_rate(env: dict[str, str], n: int, sink: Path) -> float:
    messages = _messages(n)
    _clear_sink(sink)
    start_count = _count_mail(sink)
    client = aiosmtplib.SMTP(hostname=env["SMTP_HOST"], port=int(env["SMTP_PORT"]), timeout=30)
    started = time.monotonic()
    await client.connect()
    for message in messages:
        await client.sendmail("disputes@disputedesk.dev", ["bench@example.com"], message)
    await client.quit()
    finished = await _wait_for_mail(sink, start_count + n)
    return n / (finished - started)


async def raw_each_rate(env: dict[str, str], n: int, sink: Path) -> float:
    messages = _messages(n)
    _clear_sink(sink)
    start_count = _count_mail(sink)
    started = time.monotonic()
    for message in messages:
        await aiosmtplib.send(
            message,
            sender="disputes@disputedesk.dev",
            recipients=["bench@example.com"],
            hostname=env["SMTP_HOST"],
            port=int(env["SMTP_PORT"]),
            timeout=30,
        )
    finished = await _wait_for_mail(sink, start_count + n)
    return n / (finished - started)


async def _position_group_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """A fresh consumer group would start at the topic's beginning; start it at the end, so
    the service sees only this round's backlog."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in (consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or {0}


async def service_rate(
    env: dict[str, str], n: int, sink: Path, database_url: str
) -> dict[str, float]:
    from services.notifications.catalogue import samples
    from services.notifications.settings import NotificationsSettings
    from shared.envelope import Envelope
    from shared.events import FRAUD_ALERTS, INTAKE_SELLER_FEEDBACK, RECONCILIATION_CASES
    from shared.kafka.admin import ensure_topics

    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    topics = [RECONCILIATION_CASES.name, FRAUD_ALERTS.name, INTAKE_SELLER_FEEDBACK.name]
    await ensure_topics(bootstrap, partitions=6)
    group = f"bench-notifications-{uuid.uuid4().hex[:8]}"
    await _position_group_at_end(bootstrap, group, topics)

    # The backlog: N case openings, each due an acknowledgement.
    run = uuid.uuid4().hex[:6].upper()
    now = datetime.now(UTC)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = []
        for i in range(n):
            event = samples.case_opened(
                f"CASE-B{run}-{i:06d}",
                now,
                return_id=f"RET-B{run}-{i:06d}",
                seller_email="bench@example.com",
            )
            env_ = Envelope(payload=event, source="bench/reconciliation")
            futures.append(
                await producer.send(
                    RECONCILIATION_CASES.name,
                    value=env_.value(),
                    key=env_.key.encode(),
                    headers=env_.headers(),
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()

    from services.notifications.app import create_app

    settings = NotificationsSettings(
        database_url=database_url,
        smtp_host=env["SMTP_HOST"],
        smtp_port=int(env["SMTP_PORT"]),
        kafka_bootstrap_servers=bootstrap,
        consumer_group=group,
    )
    app = create_app(settings=settings)
    _clear_sink(sink)
    start_count = _count_mail(sink)
    launched = time.monotonic()
    async with app.router.lifespan_context(app):
        runner = app.state.runtime.consumers[0]
        # Time from the moment the consumer owns its partitions: group joins take seconds
        # and are not what this measures.
        # aiokafka offers no event for "partitions assigned", so poll.
        while runner.consumer is None or not runner.consumer.assignment():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        started = time.monotonic()
        finished = await _wait_for_mail(sink, start_count + n)
    return {"rate": n / (finished - started), "with_startup": n / (finished - launched)}


async def _leave_no_backlog(bootstrap: str) -> None:
    """The bench's case events stay on the topic; a notifications service started later with
    the real consumer group (tests, the end-to-end bench) would otherwise mail all of them.
    Start that group after them. Kafka refuses this while the group has live members, in
    which case those members are consuming anyway and nothing is changed."""
    from services.notifications.settings import NotificationsSettings
    from shared.events import RECONCILIATION_CASES

    try:
        await _position_group_at_end(
            bootstrap, NotificationsSettings().consumer_group, [RECONCILIATION_CASES.name]
        )
    except Exception as exc:  # a live group keeps its offsets; report and go on
        print(f"note: consumer group offsets left as they were ({type(exc).__name__})")


async def _fresh_database(env: dict[str, str], name: str) -> str:
    """A new database on the stack's server, migrated to head (plain SQL: the stack's own
    helpers refuse once its connection settings are in the environment)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.migrations import upgrade

    server = make_url(env["NOTIFICATIONS_DATABASE_URL"])
    admin = create_async_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, "notifications", url)
    return url


async def run(env: dict[str, str], *, n: int, rounds: int) -> dict[str, Any]:
    sink = Path(env["MAIL_SINK_DIR"])
    results: dict[str, list[float]] = {"raw": [], "raw_each": [], "service": []}
    with_startup: list[float] = []
    paired: list[float] = []
    for round_ in range(rounds):
        # This machine is shared and its load swings within seconds, so each service figure is
        # paired with raw figures taken just before and just after it, and the ratio is taken
        # per round against their mean.
        before = await raw_rate(env, n, sink)
        results["raw_each"].append(await raw_each_rate(env, n, sink))
        url = await _fresh_database(env, f"bench_notifications_{round_}")
        measured = await service_rate(env, n, sink, url)
        after = await raw_rate(env, n, sink)
        results["raw"] += [before, after]
        results["service"].append(measured["rate"])
        with_startup.append(measured["with_startup"])
        paired.append(measured["rate"] / ((before + after) / 2))
    _clear_sink(sink)
    await _leave_no_backlog(env["KAFKA_BOOTSTRAP_SERVERS"])
    best = {k: max(v) for k, v in results.items()}
    return {
        "emails_per_round": n,
        "rounds": rounds,
        "rates_per_s": results,
        "best_per_s": best,
        "service_rate_including_startup_per_s": with_startup,
        "service_to_raw_per_round": paired,
        "ratio_to_raw": {
            # The headline: the median of the per-round paired ratios.
            "service": statistics.median(paired),
            "service_best_to_best": best["service"] / best["raw"],
            "raw_each": best["raw_each"] / best["raw"],
        },
        "goal": GOAL,
    }


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    if env is None:
        from disputedesk.stack import Stack

        stack = Stack.from_env()
        env = dict(stack.up())
        stack.apply_topics(env)
    os.environ.update(env)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Notifications opens sealed seller contacts: throwaway keys unless the caller set some.
    from disputedesk import credentials

    os.environ.update(credentials.at_rest_environment(os.environ, credentials.generate()[0]))
    n = int(os.environ.get("BENCH_EMAILS", "2000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    result = asyncio.run(run(env, n=n, rounds=rounds))
    table = Table(title=f"notifications — {n} emails × {rounds} rounds to the SMTP sink")
    for col in ("path", "best emails/s", "all rounds", "ratio to raw"):
        table.add_column(col)
    for key in ("raw", "raw_each", "service"):
        ratio = "1.00 (baseline)" if key == "raw" else f"{result['ratio_to_raw'][key]:.2f}"
        table.add_row(
            key,
            f"{result['best_per_s'][key]:,.0f}",
            ", ".join(f"{r:,.0f}" for r in result["rates_per_s"][key]),
            ratio,
        )
    Console().print(table)
    paired = ", ".join(f"{r:.2f}" for r in result["service_to_raw_per_round"])
    print(f"service / raw per round (raw measured just before and after): {paired}")
    print(f"goal: {result['goal']}")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "notifications.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
