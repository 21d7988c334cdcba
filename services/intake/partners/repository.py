"""Every SQL statement of partner intake: registry reads, archive writes, event dedup."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Partner, PartnerSecret, RawRequest, ShipmentEventRecord
from services.intake.partners.adapter import PartnerCredential


async def get_partner(session: AsyncSession, partner_id: str) -> Partner | None:
    return await session.get(Partner, partner_id)


async def active_credentials(
    session: AsyncSession, *, partner_id: str, now: datetime
) -> list[PartnerCredential]:
    rows = await session.scalars(
        select(PartnerSecret).where(
            PartnerSecret.partner_id == partner_id,
            or_(PartnerSecret.not_after.is_(None), PartnerSecret.not_after > now),
        )
    )
    return [PartnerCredential(r.secret, r.secret_hash, r.not_after) for r in rows]


def archive(
    session: AsyncSession,
    *,
    raw_id: UUID,
    partner_id: str,
    received_at: datetime,
    headers: dict[str, str],
    body: bytes,
    verdict: str,
    events_emitted: int,
    detail: dict[str, Any] | None,
) -> None:
    session.add(
        RawRequest(
            id=raw_id,
            partner_id=partner_id,
            received_at=received_at,
            headers=headers,
            body=body,
            verdict=verdict,
            events_emitted=events_emitted,
            detail=detail,
        )
    )


async def record_event_once(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the canonical event unless this partner event was seen before; True if new."""
    inserted = await session.scalar(
        pg_insert(ShipmentEventRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["partner_id", "partner_event_id"])
        .returning(ShipmentEventRecord.event_id)
    )
    return inserted is not None
