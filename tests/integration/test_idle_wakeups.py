"""Idle loops sleep and are woken by PostgreSQL: a row another process writes to a service's
outbox is published within a fraction of the relay's (seconds long) safety interval, because the
table's trigger NOTIFYs every replica's LISTEN connection; and the loops' waits follow due times."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.events import ReturnInitiated
from shared.outbox import outbox_row
from shared.wakeups import OUTBOX_CHANNEL, Wakeups, wait_for_wakeup
from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.waiting import eventually


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_a_row_written_elsewhere_wakes_the_idle_relay(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    assert intake.runtime.relay.poll_interval_s >= 5  # polling alone would take seconds
    rid = f"RET-NOTIFY-{uuid.uuid4().hex[:6]}"
    _, row = outbox_row(
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id="S-NOTIFY",
            buyer_id="B-1",
            category="electronics",
            item_value=100_000,
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-{rid}",
            initiated_at=datetime.now(UTC),
        ),
        source="test",
    )
    # Let the relay go idle first.
    await asyncio.sleep(0.5)
    conn = await asyncpg.connect(_dsn(harness.env["INTAKE_DATABASE_URL"]))
    try:
        began = time.monotonic()
        await conn.execute(
            "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, "
            "payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
            row["ce_id"],
            row["ce_type"],
            row["ce_source"],
            row["ce_time"],
            row["ce_subject"],
            row["topic"],
            row["key"],
            json.dumps(row["payload"]),
        )
    finally:
        await conn.close()
    await eventually(
        lambda: scalar(
            intake,
            "SELECT published_at IS NOT NULL FROM outbox WHERE ce_id = :c",
            c=row["ce_id"],
        ),
        timeout=4,
        interval=0.02,
        what="published",
    )
    assert time.monotonic() - began < 2.0


async def test_listeners_hear_a_notify_and_wait_no_longer_than_asked(harness: Harness) -> None:
    url = harness.env["INTAKE_DATABASE_URL"]
    wakeups = Wakeups(url)
    heard = wakeups.event(OUTBOX_CHANNEL)
    listening = asyncio.create_task(wakeups.run())
    try:
        await asyncio.wait_for(wakeups.connected.wait(), 10)
        await wait_for_wakeup(heard, 0.01)  # the connection's catch-up wake-up
        began = time.monotonic()
        await wait_for_wakeup(heard, 0.3)  # nothing notified: the full wait, then on
        assert 0.25 <= time.monotonic() - began < 1.5
        conn = await asyncpg.connect(_dsn(url))
        try:
            began = time.monotonic()
            await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
            await wait_for_wakeup(heard, 5)
        finally:
            await conn.close()
        assert time.monotonic() - began < 1.0
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def test_idle_services_leave_the_database_alone(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """With nothing to do, the four services send next to no statements: no loop polls, and no
    loop's own write wakes it again (a statement trigger would fire on an empty claim)."""
    from sqlalchemy import event

    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engines = [service.runtime.engine.sync_engine for service in pipeline.values()]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        # What earlier tests left behind, and a start's one-off work, settles first: a second
        # with no statement.
        settled_by, seen, quiet_since = time.monotonic() + 20.0, -1, time.monotonic()
        while time.monotonic() < settled_by:
            await asyncio.sleep(0.1)
            if len(sent) != seen:
                seen, quiet_since = len(sent), time.monotonic()
            elif time.monotonic() - quiet_since >= 1.0:
                break
        sent.clear()
        await asyncio.sleep(3.0)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    # A retention round (every `retention_interval_s`, 10 minutes) is no poll, and lands in any
    # window now and then: its purges are set aside.
    polls = [s for s in sent if not (s.startswith("DELETE FROM") and "WHERE ctid IN" in s)]
    # 50 ms polls would be hundreds; the safety intervals allow a handful.
    assert len(polls) <= 12, polls


async def test_a_dispatcher_wake_up_with_nothing_due_is_one_statement(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """A message queued for later (an evidence answer waiting for uploads to settle, a reminder)
    NOTIFYs the messages channel. The process's dispatcher workers take turns to wait, so the
    wake-up is one claim, whatever the workers: one autocommitted statement that also says when
    the next message falls due (no BEGIN or COMMIT around it, no second read of the due times)."""
    from sqlalchemy import event

    from shared.wakeups import MESSAGES_CHANNEL

    notifications = pipeline["notifications"]
    workers = notifications.app.state.settings.dispatch_workers
    engine = notifications.runtime.engine.sync_engine
    sent: list[tuple[str, str | None]] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append((statement, conn.get_execution_options().get("isolation_level")))

    def claims() -> list[tuple[str, str | None]]:
        return [(s, i) for s, i in sent if "FOR UPDATE SKIP LOCKED" in s and "messages" in s]

    # Earlier tests' messages sent and recorded first: the dispatchers wait for a wake-up.
    await eventually(
        lambda: scalar(
            notifications,
            "SELECT count(*) = 0 FROM messages "
            "WHERE status = 'sending' OR (status = 'pending' AND next_attempt_at <= now())",
        ),
        timeout=30,
        interval=0.1,
        what="nothing due",
    )
    await asyncio.sleep(0.5)
    event.listen(engine, "before_cursor_execute", note)
    try:
        conn = await asyncpg.connect(_dsn(harness.env["NOTIFICATIONS_DATABASE_URL"]))
        try:
            for n in range(1, 4):
                await conn.execute(f"NOTIFY {MESSAGES_CHANNEL}")

                async def woken(n: int = n) -> bool:
                    return len(claims()) >= n

                await eventually(woken, timeout=10, interval=0.02, what=f"wake-up {n}")
            await asyncio.sleep(0.3)
        finally:
            await conn.close()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    # One claim per wake-up, not one per worker (a message another test's leftovers queue
    # meanwhile may add one); autocommitted, and no other read of the due times.
    assert workers >= 2
    assert 3 <= len(claims()) <= 4, sent
    assert {isolation for _, isolation in claims()} == {"AUTOCOMMIT"}, sent
    assert not [s for s, _ in sent if "min(messages." in s], sent
