"""Migration c3e8a1f6d4b2 on the real PostgreSQL. A decided case event's outbox and timeline rows
are stored as they are, not compressed: the event's 2–2.5 KB document took each row past the
toast threshold, and every insert compressed it with pglz (about 2.5× the insert's cost), every
relay read decompressed it. The outbox's NOTIFY is one trigger call per statement, and an
insert of many rows still wakes a listener. The migration goes down (compressed, a row trigger)
and up."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from sqlalchemy import text

from shared.migrations import downgrade, upgrade
from shared.wakeups import OUTBOX_CHANNEL
from tests.conftest import Harness
from tests.support.db import scratch_database

# A decided event's size: past the 2 KB threshold, under the 8 KB target.
_DOCUMENT = {"explanation": "We are paying you ₹1,249.50 because " + "the facts say so, " * 120}


async def _stored_compressions(engine: Any) -> dict[str, str | None]:
    document = json.dumps(_DOCUMENT)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO cases (case_id, return_id, seller_id, origin, state, version, "
                "opened_at, updated_at, sla_used_s, sla_breached, facts_wait_over, "
                "fraud_wait_over, payout) VALUES ('C-1', 'R-1', 'S-1', 'SELLER', 'OPEN', 1, "
                "now(), now(), 0, false, false, false, 0) ON CONFLICT DO NOTHING"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, topic, key, payload) "
                "VALUES (gen_random_uuid(), 't', 's', now(), 'topic', 'k', CAST(:d AS jsonb))"
            ),
            {"d": document},
        )
        await conn.execute(
            text(
                "INSERT INTO case_timeline (case_id, case_version, kind, actor, reason, data, "
                "occurred_at) VALUES ('C-1', 1, 'CaseDecided', 'system', 'r', "
                "CAST(:d AS jsonb), now())"
            ),
            {"d": document},
        )
        outbox = await conn.scalar(
            text("SELECT pg_column_compression(payload) FROM outbox ORDER BY id DESC LIMIT 1")
        )
        timeline = await conn.scalar(
            text("SELECT pg_column_compression(data) FROM case_timeline ORDER BY id DESC LIMIT 1")
        )
        # What is read back is the document, compressed or not.
        assert (
            await conn.scalar(text("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1"))
            == _DOCUMENT
        )
    return {"outbox": outbox, "case_timeline": timeline}


async def _outbox_trigger_per_row(engine: Any) -> bool:
    async with engine.connect() as conn:
        tgtype = await conn.scalar(
            text("SELECT tgtype FROM pg_trigger WHERE tgname = 'outbox_notify'")
        )
    return bool(tgtype & 1)  # TRIGGER_TYPE_ROW


async def _notifications_of_one_insert(url: Any, engine: Any, rows: int) -> int:
    """How many notifications a listener hears from one INSERT of `rows` outbox rows."""
    heard: list[str] = []
    listener = await asyncpg.connect(str(url).replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await listener.add_listener(OUTBOX_CHANNEL, lambda *args: heard.append(args[2]))
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, topic, key, payload) "
                    "SELECT gen_random_uuid(), 't', 's', now(), 'topic', 'k', '{}'::jsonb "
                    "FROM generate_series(1, :rows)"
                ),
                {"rows": rows},
            )
        for _ in range(50):
            if heard:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # a second notification, were there one, arrives meanwhile
    finally:
        await listener.close()
    return len(heard)


async def test_decision_rows_stored_uncompressed_one_notify_per_statement_down_and_up(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "test_case_documents_inline") as (url, engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        await engine.dispose()
        assert await _stored_compressions(engine) == {"outbox": None, "case_timeline": None}
        assert not await _outbox_trigger_per_row(engine)
        assert await _notifications_of_one_insert(url, engine, rows=3) == 1

        await asyncio.to_thread(downgrade, "reconciliation", url, "b7c1e5d9a2f4")
        # The way down changes the outbox payload's type (json back to jsonb): statements the
        # pooled connections prepared against the old columns are invalid.
        await engine.dispose()
        # Without the migration the same rows are compressed: the test sees what it claims.
        assert await _stored_compressions(engine) == {"outbox": "pglz", "case_timeline": "pglz"}
        assert await _outbox_trigger_per_row(engine)
        assert await _notifications_of_one_insert(url, engine, rows=3) == 1

        await asyncio.to_thread(upgrade, "reconciliation", url)
        await engine.dispose()
        assert await _stored_compressions(engine) == {"outbox": None, "case_timeline": None}
