"""SQL of alerts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, cast, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.models import Alert
from shared import paging
from shared.unit_of_work import unit_of

# Newest first; the id breaks ties, so that a cursor names one position.
ALERT_ORDER = ((Alert.raised_at, True), (Alert.alert_id, False))
# An alert counts against its entity until it is closed (the unique index's condition too).
OPEN_STATUSES = ("open", "acknowledged")


@dataclass(slots=True)
class _Alerted:
    """`alerted`'s reads in a session: (entity type, patterns) → entity ids."""

    kept: dict[tuple[str, frozenset[str]], set[str]] = field(default_factory=dict)


async def insert_if_none_open(session: AsyncSession, values: dict[str, Any]) -> UUID | None:
    """Insert the alert unless one for the same pattern and subject is still open."""
    stmt = (
        pg_insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["pattern", "subject_key"],
            index_where=text("status IN ('open', 'acknowledged')"),
        )
        .returning(Alert.alert_id)
    )
    alert_id = await session.scalar(stmt)
    if alert_id is not None and values.get("status", "open") in OPEN_STATUSES:
        alerted_read = unit_of(session).find(_Alerted)
        kept = alerted_read.kept if alerted_read else {}
        for (entity_type, patterns), ids in kept.items():
            if entity_type == values["entity_type"] and values["pattern"] in patterns:
                ids.add(values["entity_id"])
    return alert_id


async def list_alerts(
    session: AsyncSession,
    *,
    status: str | None,
    pattern: str | None,
    entity_type: str | None,
    entity_id: str | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[Alert]:
    q = select(Alert)
    if status:
        q = q.where(Alert.status == status)
    if pattern:
        q = q.where(Alert.pattern == pattern)
    if entity_type:
        q = q.where(Alert.entity_type == entity_type)
    if entity_id:
        q = q.where(Alert.entity_id == entity_id)
    if after is not None:
        q = q.where(paging.after(ALERT_ORDER, after))
    q = q.order_by(*paging.order_by(ALERT_ORDER)).limit(limit)
    return list((await session.scalars(q)).all())


async def alerted(session: AsyncSession, entity_type: str, patterns: Collection[str]) -> list[str]:
    """The entities of a type under an open (or acknowledged) alert of any of `patterns`; a
    closed alert no longer counts against its entity.

    Read once per session (a scoring transaction asks for every claim of its batch) and kept
    current by `insert_if_none_open`, the only way scoring raises alerts; closing one is the
    desk's act, in a session of its own."""
    kept = unit_of(session).get(_Alerted).kept
    key = (entity_type, frozenset(patterns))
    if key not in kept:
        kept[key] = set(
            await session.scalars(
                select(Alert.entity_id)
                .distinct()
                .where(
                    Alert.entity_type == entity_type,
                    Alert.pattern.in_(list(patterns)),
                    Alert.status.in_(OPEN_STATUSES),
                )
            )
        )
    return sorted(kept[key])


async def carrying_hub(
    session: AsyncSession, pattern: str, code: str, hub_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """The agents under an open alert of `pattern` raised on a finding `code` naming `hub_id`
    (an agent carrying its hub's QC excess), each with the alert's evidence. Read afresh: an
    alert this transaction raised on an earlier event of its batch is already in the table
    (`insert_if_none_open` runs at once)."""
    rows = await session.execute(
        select(Alert.entity_id, Alert.evidence)
        .where(
            Alert.pattern == pattern,
            Alert.entity_type == "agent",
            Alert.status.in_(OPEN_STATUSES),
            Alert.evidence["code"].astext == code,
            Alert.evidence["numbers"]["hub_id"].astext == hub_id,
        )
        .order_by(Alert.entity_id)
    )
    return [(entity_id, dict(evidence or {})) for entity_id, evidence in rows]


async def get_for_update(session: AsyncSession, alert_id: UUID) -> Alert | None:
    return await session.scalar(select(Alert).where(Alert.alert_id == alert_id).with_for_update())


def acknowledge(alert: Alert, *, by: str, at: datetime) -> None:
    alert.status = "acknowledged"
    alert.acknowledged_by = by
    alert.acknowledged_at = at


async def clear(
    session: AsyncSession, alert_id: UUID, *, at: datetime, why: dict[str, Any]
) -> bool:
    """Close an open alert that scoring no longer supports, with why in its evidence. Only an
    `open` one: an acknowledged alert is an analyst's to close. Returns whether it was."""
    closed = await session.scalar(
        update(Alert)
        .where(Alert.alert_id == alert_id, Alert.status == "open")
        .values(status="closed", closed_at=at, evidence=Alert.evidence.op("||")(cast(why, JSONB)))
        .returning(Alert.alert_id)
    )
    if closed is None:
        return False
    # `alerted`'s reads may count the entity under this alert: read them again when asked.
    unit_of(session).pop(_Alerted)
    return True


async def closed_since(
    session: AsyncSession, pattern: str, entity_type: str, entity_id: str, at: datetime
) -> bool:
    """Whether an alert of the pattern on the entity was closed at or after event time `at`:
    cleared by fraud then (its `cleared` stamp), or closed by a person, whose act carries no
    event time and is taken as later than any time asked about (a person's close stands)."""
    found = await session.scalar(
        select(Alert.alert_id)
        .where(
            Alert.pattern == pattern,
            Alert.entity_type == entity_type,
            Alert.entity_id == entity_id,
            Alert.status == "closed",
            or_(
                ~Alert.evidence.has_key("cleared"),
                Alert.evidence["cleared"]["event_time"].astext.cast(DateTime(timezone=True)) >= at,
            ),
        )
        .limit(1)
    )
    return found is not None


async def update_evidence(session: AsyncSession, alert_id: UUID, evidence: dict[str, Any]) -> None:
    """Replace an alert's evidence with stronger evidence of the same finding (a seller's
    claim-rate evidence that has since reached its claims' HIGH level)."""
    await session.execute(update(Alert).where(Alert.alert_id == alert_id).values(evidence=evidence))


def close(alert: Alert, *, at: datetime) -> None:
    alert.status = "closed"
    alert.closed_at = at
