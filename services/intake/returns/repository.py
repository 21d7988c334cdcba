"""SQL of the return feed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import RefundRecord, ReturnRecord


async def insert_return_once(
    session: AsyncSession, *, return_id: str, seller_id: str, payload: dict[str, Any], ce_id: UUID
) -> UUID | None:
    """Store the return unless it is known already; returns the stored event id or None."""
    return await session.scalar(
        pg_insert(ReturnRecord)
        .values(return_id=return_id, seller_id=seller_id, payload=payload, ce_id=ce_id)
        .on_conflict_do_nothing(index_elements=["return_id"])
        .returning(ReturnRecord.ce_id)
    )


async def get_return(session: AsyncSession, return_id: str) -> ReturnRecord | None:
    return await session.get(ReturnRecord, return_id)


async def insert_refund_once(
    session: AsyncSession, *, refund_id: str, return_id: str, payload: dict[str, Any], ce_id: UUID
) -> UUID | None:
    return await session.scalar(
        pg_insert(RefundRecord)
        .values(refund_id=refund_id, return_id=return_id, payload=payload, ce_id=ce_id)
        .on_conflict_do_nothing(index_elements=["refund_id"])
        .returning(RefundRecord.ce_id)
    )


async def get_refund(session: AsyncSession, refund_id: str) -> RefundRecord | None:
    return await session.get(RefundRecord, refund_id)
