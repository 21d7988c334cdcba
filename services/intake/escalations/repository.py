"""SQL of seller escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from asyncpg import Connection
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.history.repository import published_and_logged, recorded_arguments
from services.intake.models import Escalation, ReturnRecord
from shared import paging
from shared.idempotency import KeyedRequest

# Newest first; the id breaks ties, so that a cursor names one position.
ORDER = ((Escalation.filed_at, True), (Escalation.escalation_id, False))


_COLUMNS = """escalation_id, return_id, seller_id, claim_type, claimed_amount, description,
    evidence, received_weight_g, channel, filed_by, filed_at, seller_contact, state"""
_VALUES = """CAST(:escalation_id AS varchar), CAST(:return_id AS varchar),
    CAST(:seller_id AS varchar), CAST(:claim_type AS varchar), CAST(:claimed_amount AS bigint),
    CAST(:description AS text), CAST(:evidence AS jsonb), CAST(:received_weight_g AS integer),
    CAST(:channel AS varchar), CAST(:filed_by AS varchar), CAST(:filed_at AS timestamptz),
    CAST(:seller_contact AS text), CAST(:state AS varchar)"""
_RECORDED = "RETURNING CAST(:ce_id AS uuid) AS ce_id, CAST(:payload AS jsonb) AS payload"

# A filing in one round trip: the escalation, its event's outbox row and its history line. The
# ORM's way was a unit of work flushing three INSERTs at commit; the event's JSON is sent once,
# as text, for the outbox row.
_STORE_FILED = text(
    f"""
WITH stored AS (
    INSERT INTO {Escalation.__tablename__} ({_COLUMNS}) VALUES ({_VALUES}) {_RECORDED}
), {published_and_logged("stored")}
SELECT ce_id FROM stored
"""
)

# The common filing, on a return the feed has named, with the owner's check in the same round
# trip: the return's seller is read, and the escalation (with its outbox row and history line)
# stored only when it is the filing's seller. Before, the owner's read was a statement of its
# own, the transaction's first. A return's seller never changes once the feed named it, so
# the statement's snapshot decides as the separate read did.
_FILE_ON_NAMED_RETURN = text(
    f"""
WITH owner AS (
    SELECT seller_id FROM {ReturnRecord.__tablename__}
     WHERE return_id = CAST(:return_id AS varchar)
), stored AS (
    INSERT INTO {Escalation.__tablename__} ({_COLUMNS})
    SELECT {_VALUES} FROM owner WHERE owner.seller_id = CAST(:seller_id AS varchar)
    {_RECORDED}
), {published_and_logged("stored")}
SELECT (SELECT seller_id FROM owner) AS owner_seller_id
"""
)


def _parameters(
    escalation: Escalation, *, evidence: str, recorded: dict[str, object]
) -> dict[str, object]:
    return {
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
    }


async def store_filed(
    session: AsyncSession, escalation: Escalation, *, evidence: str, recorded: dict[str, object]
) -> None:
    """`_STORE_FILED`. `escalation`: the row to store, never added to the session; `evidence`
    its evidence as JSON; `recorded` its event's JSON, outbox row and history line as
    `history.service.recorded_columns` gives them."""
    await session.execute(
        _STORE_FILED, _parameters(escalation, evidence=evidence, recorded=recorded)
    )


async def file_on_named_return(
    session: AsyncSession, escalation: Escalation, *, evidence: str, recorded: dict[str, object]
) -> str | None:
    """`_FILE_ON_NAMED_RETURN`, arguments as `store_filed`'s: the seller the feed named for the
    escalation's return, or None when the feed has not named the return yet. The escalation is
    stored only when that seller is its own; otherwise nothing was written."""
    owner_seller_id: str | None = await session.scalar(
        _FILE_ON_NAMED_RETURN, _parameters(escalation, evidence=evidence, recorded=recorded)
    )
    return owner_seller_id


# The common filing in one call (migration e5b2c9d4a716): the owner's check, the key's row
# stored completed with the answer, and the writes of `_FILE_ON_NAMED_RETURN`, as one
# autocommitted transaction. Its answer: "filed", or "not_named" / "key_taken" with nothing
# written.
_FILE_ALONE = "SELECT intake_file_escalation(" + ", ".join(f"${i}" for i in range(1, 32)) + ")"


async def file_alone(
    connection: Connection,
    escalation: Escalation,
    *,
    evidence: str,
    recorded: dict[str, object],
    keyed: KeyedRequest | None,
    answer_status: int,
    answer: str | None,
) -> bool:
    """An escalation on a return the feed named as its seller's, stored with its outbox row
    and history line, and with its `Idempotency-Key`'s row completed with `answer` (JSON) and
    `answer_status` when `keyed` (completed at the call's transaction time, the clock of the
    row's `created_at`), in one autocommitted call on asyncpg's `connection` (outside any
    transaction). False when it wrote nothing: the return is not named or is another seller's,
    or the key is taken; the caller then takes the transaction. Other arguments as
    `store_filed`'s."""
    outcome = await connection.fetchval(
        _FILE_ALONE,
        keyed.client_id if keyed is not None else None,
        keyed.key if keyed is not None else None,
        keyed.route if keyed is not None else None,
        keyed.request_hash if keyed is not None else None,
        answer_status,
        answer,
        escalation.escalation_id,
        escalation.return_id,
        escalation.seller_id,
        escalation.claim_type,
        escalation.claimed_amount,
        escalation.description,
        evidence,
        escalation.received_weight_g,
        escalation.channel,
        escalation.filed_by,
        escalation.filed_at,
        escalation.seller_contact,
        escalation.state,
        *recorded_arguments(recorded),
    )
    return bool(outcome == "filed")


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
