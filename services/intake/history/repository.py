"""SQL of the return event log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, String, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Outbox, ReturnEventLog, ShipmentEventRecord
from shared import paging
from shared.events import ReturnShipmentEvent


def add(session: AsyncSession, row: ReturnEventLog) -> None:
    session.add(row)


def published_and_logged(stored: str) -> str:
    """Two CTEs of a statement that stores an event's fact: its outbox row and its history line,
    one each for the row the CTE `stored` returns (`ce_id`, `payload`), none when it returns
    none. What `service.record` adds to a session, written in the storing statement's own
    round trip instead of by the unit of work's flush. Their parameters are
    `service.recorded_columns`' (with `:return_id`, named by the storing statement too)."""
    return f"""published AS (
    INSERT INTO {Outbox.__tablename__} (ce_id, ce_type, ce_source, ce_time, ce_subject, topic,
                                        key, payload, traceparent)
    SELECT ce_id, CAST(:ce_type AS varchar), CAST(:ce_source AS varchar),
           CAST(:ce_time AS timestamptz), CAST(:ce_subject AS varchar), CAST(:topic AS varchar),
           CAST(:key AS varchar), payload, CAST(:traceparent AS varchar)
      FROM {stored}
), logged AS (
    INSERT INTO {ReturnEventLog.__tablename__} (ce_id, return_id, ce_type, occurred_at,
                                                recorded_at, payload)
    SELECT ce_id, CAST(:return_id AS varchar), CAST(:ce_type AS varchar),
           CAST(:occurred_at AS timestamptz), CAST(:recorded_at AS timestamptz),
           CAST(:logged AS jsonb)
      FROM {stored}
)"""


async def has_event(session: AsyncSession, *, return_id: str, ce_type: str) -> bool:
    """Whether intake has recorded an event of this type about the return."""
    found = await session.scalar(
        select(ReturnEventLog.ce_id)
        .where(ReturnEventLog.return_id == return_id, ReturnEventLog.ce_type == ce_type)
        .limit(1)
    )
    return found is not None


async def for_return(
    session: AsyncSession,
    *,
    return_id: str,
    limit: int,
    after: tuple[datetime, datetime, UUID] | None = None,
) -> Sequence[Row[Any]]:
    """The return's events from the log and its partner scans, in the order they happened."""
    log = select(
        ReturnEventLog.ce_id.label("ce_id"),
        ReturnEventLog.ce_type.label("ce_type"),
        ReturnEventLog.occurred_at.label("occurred_at"),
        ReturnEventLog.recorded_at.label("recorded_at"),
        ReturnEventLog.payload.label("payload"),
    ).where(ReturnEventLog.return_id == return_id)
    scans = select(
        ShipmentEventRecord.event_id,
        literal(ReturnShipmentEvent.ce_type, String),
        ShipmentEventRecord.occurred_at,
        ShipmentEventRecord.recorded_at,
        ShipmentEventRecord.payload,
    ).where(ShipmentEventRecord.return_id == return_id)
    both = union_all(log, scans).subquery()
    # Recording time and then the id break ties, so that a cursor names one position.
    order = ((both.c.occurred_at, False), (both.c.recorded_at, False), (both.c.ce_id, False))
    query = select(both).order_by(*paging.order_by(order)).limit(limit)
    if after is not None:
        query = query.where(paging.after(order, after))
    return (await session.execute(query)).all()


# The order in which intake's storing functions (`intake_store_new_return`,
# `intake_file_escalation`, their keyed forms) take `history.service.recorded_columns`' values,
# after their own.
RECORDED_ORDER = (
    "payload",
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "ce_subject",
    "topic",
    "key",
    "traceparent",
    "occurred_at",
    "recorded_at",
    "logged",
)


def recorded_arguments(recorded: dict[str, object]) -> tuple[object, ...]:
    """`recorded_columns`' values as a storing function's trailing arguments."""
    return tuple(recorded[name] for name in RECORDED_ORDER)
