"""SQL of intake administration: the partner registry, secrets, mappings, unmapped statuses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import (
    Partner,
    PartnerSecret,
    ShipmentEventRecord,
    StatusMapping,
    UnmappedScan,
)


async def insert_partner(session: AsyncSession, values: dict[str, Any]) -> bool:
    inserted = await session.scalar(
        pg_insert(Partner).values(**values).on_conflict_do_nothing().returning(Partner.partner_id)
    )
    return inserted is not None


async def partner_spelled_otherwise(session: AsyncSession, partner_id: str) -> str | None:
    """A registered partner whose id is `partner_id` in other letter case, if any."""
    return await session.scalar(
        select(Partner.partner_id)
        .where(func.lower(Partner.partner_id) == partner_id.lower())
        .where(Partner.partner_id != partner_id)
        .limit(1)
    )


def add_secret(session: AsyncSession, secret: PartnerSecret) -> None:
    session.add(secret)


async def list_partners(session: AsyncSession) -> Sequence[Partner]:
    return (await session.scalars(select(Partner).order_by(Partner.partner_id))).all()


async def secrets_of(session: AsyncSession, partner_ids: Sequence[str]) -> Sequence[PartnerSecret]:
    return (
        await session.scalars(
            select(PartnerSecret)
            .where(PartnerSecret.partner_id.in_(list(partner_ids)))
            .order_by(PartnerSecret.id)
        )
    ).all()


async def lock_partner(session: AsyncSession, partner_id: str) -> Partner | None:
    return await session.scalar(
        select(Partner).where(Partner.partner_id == partner_id).with_for_update()
    )


async def expire_active_secrets(
    session: AsyncSession, *, partner_id: str, not_after: datetime, now: datetime
) -> None:
    """Give every secret still valid after `not_after` that end date (none is extended)."""
    await session.execute(
        update(PartnerSecret)
        .where(
            PartnerSecret.partner_id == partner_id,
            or_(PartnerSecret.not_after.is_(None), PartnerSecret.not_after > not_after),
        )
        .values(not_after=not_after)
    )


async def upsert_mapping(session: AsyncSession, values: dict[str, Any]) -> StatusMapping:
    stmt = pg_insert(StatusMapping).values(**values)
    row: StatusMapping | None = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=["partner_id", "status"],
            set_={
                "event_type": stmt.excluded.event_type,
                "created_by": stmt.excluded.created_by,
                "created_at": func.now(),
            },
        ).returning(StatusMapping)
    )
    assert row is not None
    return row


async def mappings_of(session: AsyncSession, partner_id: str) -> Sequence[StatusMapping]:
    return (
        await session.scalars(
            select(StatusMapping)
            .where(StatusMapping.partner_id == partner_id)
            .order_by(StatusMapping.status)
        )
    ).all()


async def unmapped_summary(
    session: AsyncSession, *, partner_id: str | None
) -> list[tuple[str, str, int, datetime, datetime, list[Any]]]:
    """Unresolved unmapped scans grouped by (partner, status), skipping those emitted since."""
    emitted = exists().where(
        and_(
            ShipmentEventRecord.partner_id == UnmappedScan.partner_id,
            ShipmentEventRecord.partner_event_id == UnmappedScan.partner_event_id,
        )
    )
    query = (
        select(
            UnmappedScan.partner_id,
            UnmappedScan.status,
            func.count(),
            func.min(UnmappedScan.seen_at),
            func.max(UnmappedScan.seen_at),
            func.array_agg(func.distinct(UnmappedScan.raw_ref)),
        )
        .where(UnmappedScan.resolved_at.is_(None), ~emitted)
        .group_by(UnmappedScan.partner_id, UnmappedScan.status)
        .order_by(UnmappedScan.partner_id, UnmappedScan.status)
        .limit(1000)
    )
    if partner_id is not None:
        query = query.where(UnmappedScan.partner_id == partner_id)
    return [tuple(r) for r in (await session.execute(query)).all()]  # type: ignore[misc]
