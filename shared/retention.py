"""Retention of bookkeeping rows: published outbox rows, handled inbox ids and idempotency keys.

These tables grow with every event and request, and each row is only useful for a while: an
outbox row once Kafka has it (kept a week to help an investigation), an inbox id for as long as
its message can still be redelivered (keep it longer than the topics' retention, or a consumer
reset to the earliest offset would apply old events again), an idempotency key for as long as a
client may retry. Deletion runs in small batches so it never holds long locks on hot tables.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retention:
    """Rows of `table` whose `column` is older than `keep` may go."""

    table: str
    column: str
    keep: timedelta


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession],
    retention: Retention,
    *,
    now: datetime,
    batch_size: int = 5_000,
    service: str = "",
) -> int:
    """Delete every expired row, one batch per transaction; returns how many went."""
    cutoff = now - retention.keep
    # Table and column names come from our own models, never from input. `ctid` names a row
    # whatever the table's key; a NULL `column` (an unpublished outbox row,
    # an unfinished idempotency key) never compares older than the cutoff, so it always stays.
    statement = text(
        f"DELETE FROM {retention.table} WHERE ctid IN ("
        f"SELECT ctid FROM {retention.table} WHERE {retention.column} < :cutoff LIMIT :n)"
    )
    deleted = 0
    while True:
        async with sessionmaker() as session, session.begin():
            result: Any = await session.execute(statement, {"cutoff": cutoff, "n": batch_size})
        deleted += result.rowcount or 0
        metrics.RETENTION_DELETED.labels(service, retention.table).inc(result.rowcount or 0)
        if (result.rowcount or 0) < batch_size:
            return deleted


def retention_loop(retentions: list[Retention], interval_s: float) -> Any:
    """A background loop for `create_service_app`: purge every `interval_s` seconds."""

    async def retention(runtime: Any) -> None:
        while True:
            for item in retentions:
                try:
                    # Real time, not the runtime's clock: the rows were stamped with real time.
                    await purge(
                        runtime.sessionmaker, item, now=datetime.now(UTC), service=runtime.name
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the next round tries again; nothing depends on it
                    log.warning("retention of %s failed: %r", item.table, exc)
            await asyncio.sleep(interval_s)

    return retention
