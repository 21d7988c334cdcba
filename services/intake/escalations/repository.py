"""SQL of seller escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.history.repository import published_and_logged
from services.intake.models import Escalation
from shared import paging

# Newest first; the id breaks ties, so that a cursor names one position.
ORDER = ((Escalation.filed_at, True), (Escalation.escalation_id, False))


# A filing in one round trip: the escalation, its event's outbox row and its history line. The
# ORM's way was a unit of work flushing three INSERTs at commit; the event's JSON is sent once,
# as text, for the outbox row.
_STORE_FILED = text(
    f"""
WITH stored AS (
    INSERT INTO {Escalation.__tablename__} (escalation_id, return_id, seller_id, claim_type,
                                            claimed_amount, description, evidence,
                                            received_weight_g, channel, filed_by, filed_at,
                                            seller_contact, state)
    VALUES (CAST(:escalation_id AS varchar), CAST(:return_id AS varchar),
            CAST(:seller_id AS varchar), CAST(:claim_type AS varchar),
            CAST(:claimed_amount AS bigint), CAST(:description AS text),
            CAST(:evidence AS jsonb), CAST(:received_weight_g AS integer),
            CAST(:channel AS varchar), CAST(:filed_by AS varchar),
            CAST(:filed_at AS timestamptz), CAST(:seller_contact AS text), CAST(:state AS varchar))
    RETURNING CAST(:ce_id AS uuid) AS ce_id, CAST(:payload AS jsonb) AS payload
), {published_and_logged("stored")}
SELECT ce_id FROM stored
"""
)


async def store_filed(
    session: AsyncSession, escalation: Escalation, *, evidence: str, recorded: dict[str, object]
) -> None:
    """The statement above. `escalation`: the row to store, never added to the session;
    `evidence` its evidence as JSON; `recorded` its event's JSON, outbox row and history line as
    `history.service.recorded_columns` gives them."""
    await session.execute(
        _STORE_FILED,
        {
            "escalation_id": escalation.escalation_id,
            "return_id": escalation.return_id,
            "seller_id": escalation.seller_id,
            "claim_type": escalation.claim_type,
            "claimed_amount": escalation.claimed_amount,
            "description": escalation.description,
            "evidence": evidence,
            "received_weight_g": escalation.received_weight_g,
            "channel": escalation.channel,
            "filed_by": escalation.filed_by,
            "filed_at": escalation.filed_at,
            "seller_contact": escalation.seller_contact,
            "state": escalation.state,
            **recorded,
        },
    )


async def get(
    session: AsyncSession, escalation_id: str, *, for_update: bool = False
) -> Escalation | None:
    query = select(Escalation).where(Escalation.escalation_id == escalation_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def search(
    session: AsyncSession,
    *,
    seller_id: str | None,
    return_id: str | None,
    limit: int,
    after: tuple[datetime, str] | None,
) -> Sequence[Escalation]:
    query = select(Escalation)
    if seller_id is not None:
        query = query.where(Escalation.seller_id == seller_id)
    if return_id is not None:
        query = query.where(Escalation.return_id == return_id)
    if after is not None:
        query = query.where(paging.after(ORDER, after))
    query = query.order_by(*paging.order_by(ORDER)).limit(limit)
    return (await session.scalars(query)).all()


async def pending_for_return(session: AsyncSession, return_id: str) -> Sequence[Escalation]:
    """The return's escalations held for its feed entry, locked, oldest first."""
    query = (
        select(Escalation)
        .where(Escalation.return_id == return_id, Escalation.state == "pending_return")
        .order_by(Escalation.filed_at, Escalation.escalation_id)
        .with_for_update()
    )
    return (await session.scalars(query)).all()
