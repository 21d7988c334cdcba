"""Migration a4c8e2f6b9d3 on the real PostgreSQL: reconciliation's outbox keeps each event's
text as the process sent it (`json`), so the relay's `payload::text` (the Kafka message) is
that text, by the decision batch's array insert and by the ORM's `enqueue` alike; the same
values as the `jsonb` column gave. The migration goes down (rows kept, re-printed by `jsonb`)
and up."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.reconciliation.facts.batch import _INSERT_OUTBOX
from services.reconciliation.models import Outbox
from shared.db import JsonText, json_text
from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

# Members out of jsonb's order (it sorts keys by length, then bytes), nested, non-ASCII.
_BATCH_TEXT = '{"state":"CLOSED","case_id":"CASE-1","decision":{"payout":249900,"note":"₹ paid"}}'
_ENQUEUED = {"return_id": "RET-9", "a": [1, 2.5, None], "reason": "Cracked screen — refunded"}


def _row(ce_id: uuid.UUID, payload: Any) -> dict[str, Any]:
    return {
        "ce_id": ce_id,
        "ce_type": "disputedesk.reconciliation.case_decided.v1",
        "ce_source": "reconciliation",
        "ce_time": datetime(2026, 12, 6, 3, 0, tzinfo=UTC),
        "ce_subject": "CASE-1",
        "topic": "reconciliation.cases.v1",
        "key": "RET-1",
        "payload": payload,
        "traceparent": None,
    }


async def _published(engine: AsyncEngine) -> dict[str, str]:
    """Each row's message text, as the relay reads it, by key."""
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT key, payload::text FROM outbox ORDER BY id"))
    return {key: payload for key, payload in rows}


async def _column_type(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'outbox' AND column_name = 'payload'"
            )
        )
    return str(found)


async def test_outbox_keeps_the_event_text_as_sent_down_and_up(harness: Harness) -> None:
    async with scratch_database(harness, "test_reconciliation_outbox_as_sent") as (url, engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _column_type(engine) == "json"
        async with AsyncSession(engine) as session:
            # The decision batch's path: the event's text, given as it is.
            await _INSERT_OUTBOX.execute(session, [_row(uuid.uuid4(), JsonText(_BATCH_TEXT))])
            # The ORM's path (`shared.outbox.enqueue`): a dict, encoded by the engine.
            session.add(Outbox(**{**_row(uuid.uuid4(), _ENQUEUED), "key": "RET-9"}))
            await session.commit()
        sent = await _published(engine)
        assert sent == {"RET-1": _BATCH_TEXT, "RET-9": json_text(_ENQUEUED)}

        await asyncio.to_thread(downgrade, "reconciliation", url, "f2d8b4a6c9e1")
        assert await _column_type(engine) == "jsonb"
        before = await _published(engine)
        # jsonb re-prints the text (its key order, its spacing): the same values.
        assert before["RET-1"] != _BATCH_TEXT
        assert {k: json.loads(v) for k, v in before.items()} == {
            "RET-1": json.loads(_BATCH_TEXT),
            "RET-9": _ENQUEUED,
        }

        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _column_type(engine) == "json"
        assert {k: json.loads(v) for k, v in (await _published(engine)).items()} == {
            "RET-1": json.loads(_BATCH_TEXT),
            "RET-9": _ENQUEUED,
        }
