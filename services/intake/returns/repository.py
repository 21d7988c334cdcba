"""SQL of the return feed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import RefundRecord, ReturnRecord


@dataclass(frozen=True, slots=True)
class Owner:
    """Whom a return belongs to, as the feed said: the seller who may escalate it, the partner
    (and the AWB) that may report scans on it."""

    seller_id: str
    partner_id: str
    awb: str


# The first key of the two-key advisory lock space taken by return ids: apart from the one-key
# locks (the outbox relay's) and from any other two-key user that picks another number.
_RETURN_LOCK_CLASS = 0x5245  # "RE"


async def lock_return_id(session: AsyncSession, return_id: str) -> None:
    """Serialise, until commit, everyone who decides on this return id before its feed entry
    exists: the feed binding what is held, and a scan or escalation deciding to be held. Without
    it, a hold committed while the feed entry commits would wait for a feed that came already.
    A transaction-level advisory lock: no row needed, released at commit or rollback; two ids
    sharing a hash merely wait for each other."""
    await session.execute(
        select(func.pg_advisory_xact_lock(_RETURN_LOCK_CLASS, func.hashtext(return_id)))
    )


async def insert_return_once(
    session: AsyncSession,
    *,
    return_id: str,
    seller_id: str,
    partner_id: str,
    awb: str,
    payload: dict[str, Any],
    ce_id: UUID,
) -> UUID | None:
    """Store the return unless it is known already; returns the stored event id or None."""
    return await session.scalar(
        pg_insert(ReturnRecord)
        .values(
            return_id=return_id,
            seller_id=seller_id,
            partner_id=partner_id,
            awb=awb,
            payload=payload,
            ce_id=ce_id,
        )
        .on_conflict_do_nothing(index_elements=["return_id"])
        .returning(ReturnRecord.ce_id)
    )


async def get_return(session: AsyncSession, return_id: str) -> ReturnRecord | None:
    return await session.get(ReturnRecord, return_id)


async def owners(session: AsyncSession, return_ids: Iterable[str]) -> dict[str, Owner]:
    """Who each known return belongs to (one statement; unknown ids are simply absent)."""
    ids = sorted(set(return_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(
            ReturnRecord.return_id,
            ReturnRecord.seller_id,
            ReturnRecord.partner_id,
            ReturnRecord.awb,
        ).where(ReturnRecord.return_id.in_(ids))
    )
    return {r: Owner(s, p, a) for r, s, p, a in rows.all()}


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
