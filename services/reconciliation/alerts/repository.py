"""SQL of alert annotations: one statement per alert, whatever the number of cases it touches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case, ShipmentEventRecord, TimelineEntry
from services.reconciliation.policy.rules import OPEN_STATES


def _concerns(entity_type: str, entity_id: str) -> ColumnElement[bool]:
    if entity_type == "seller":
        return Case.seller_id == entity_id
    if entity_type == "buyer":
        return Case.buyer_id == entity_id
    if entity_type == "partner":
        return Case.partner_id == entity_id
    # A hub or an agent touches a case through the scans of its return.
    column = ShipmentEventRecord.hub_id if entity_type == "hub" else ShipmentEventRecord.agent_id
    return Case.return_id.in_(select(ShipmentEventRecord.return_id).where(column == entity_id))


async def annotate_open_cases(
    session: AsyncSession,
    *,
    entity_type: str,
    entity_id: str,
    reason: str,
    data: dict[str, Any],
    at: datetime,
) -> int:
    """Add a FRAUD_ALERT entry to the timeline of every open case the entity touches."""
    rows = select(
        Case.case_id,
        Case.version,
        literal("FRAUD_ALERT"),
        literal("fraud"),
        literal(reason),
        literal(data, TimelineEntry.data.type),
        literal(at, TimelineEntry.occurred_at.type),
    ).where(Case.state.in_([s.value for s in OPEN_STATES]), _concerns(entity_type, entity_id))
    result = await session.execute(
        insert(TimelineEntry).from_select(
            ["case_id", "case_version", "kind", "actor", "reason", "data", "occurred_at"], rows
        )
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
