"""SQL of the return feed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from asyncpg import Connection
from sqlalchemy import Boolean, func, select, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.history.repository import published_and_logged, recorded_arguments
from services.intake.holds.repository import ANYTHING_HELD_SQL
from services.intake.models import RefundRecord, ReturnRecord
from shared.idempotency import KeyedRequest


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


# A new return's feed entry in one round trip: the return, its event's outbox row and its
# history line, the two written only if the return is new (the return id is the feed's
# redelivery guard), and whether anything waits for the return. The caller holds the return's
# lock (`lock_return_id`, an earlier statement), so the held check's snapshot, taken when this
# statement starts, already sees every hold decided for the return. The ORM's way was three
# round trips (the insert, the held check, and the check's autoflush of the two rows) and a unit
# of work; the event's JSON is sent once, as text, for the return and the outbox row.
_STORE_NEW_RETURN = text(
    f"""
WITH stored AS (
    INSERT INTO {ReturnRecord.__tablename__} (return_id, seller_id, partner_id, awb, payload, ce_id)
    VALUES (CAST(:return_id AS varchar), CAST(:seller_id AS varchar),
            CAST(:partner_id AS varchar), CAST(:awb AS varchar), CAST(:payload AS jsonb),
            CAST(:ce_id AS uuid))
    ON CONFLICT (return_id) DO NOTHING
    RETURNING ce_id, payload
), {published_and_logged("stored")}
SELECT (SELECT ce_id FROM stored) AS ce_id, {ANYTHING_HELD_SQL} AS anything_held
"""
).columns(ce_id=PgUUID(as_uuid=True), anything_held=Boolean())


@dataclass(frozen=True, slots=True)
class StoredReturn:
    ce_id: UUID | None  # None: the return was known already, and nothing was written
    anything_held: bool


async def store_new_return(
    session: AsyncSession, *, owner: Owner, return_id: str, recorded: dict[str, object]
) -> StoredReturn:
    """The statement above. `recorded`: the event's JSON, outbox row and history line as
    `history.service.recorded_columns` gives them."""
    row = (
        await session.execute(
            _STORE_NEW_RETURN,
            {
                "return_id": return_id,
                "seller_id": owner.seller_id,
                "partner_id": owner.partner_id,
                "awb": owner.awb,
                **recorded,
            },
        )
    ).one()
    return StoredReturn(row.ce_id, bool(row.anything_held))


# The feed entry's common case in one call (migration d3a8f1c6b2e4): the return's lock, the
# check for anything held, and the writes of `_STORE_NEW_RETURN`, as one autocommitted
# transaction. Its answer: "stored", or "held" / "known" with nothing written.
_STORE_NEW_RETURN_ALONE = (
    "SELECT intake_store_new_return($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15, $16)"
)


# The same with an `Idempotency-Key` (migration e5b2c9d4a716): the key's row, completed with
# the answer, first; deleted again in the same call when the entry writes nothing, or
# "key_taken" with nothing written when the key was used before.
_STORE_NEW_RETURN_KEYED = (
    "SELECT intake_store_new_return_keyed(" + ", ".join(f"${i}" for i in range(1, 23)) + ")"
)


async def store_new_return_alone(
    connection: Connection,
    *,
    owner: Owner,
    return_id: str,
    recorded: dict[str, object],
    keyed: KeyedRequest | None = None,
    answer: str | None = None,
    answer_status: int | None = None,
) -> bool:
    """A new return for which nothing is held, stored with its outbox row and history line in
    one autocommitted call on asyncpg's `connection` (outside any transaction: the call is its
    own, and holds the return's lock to its end). False when it wrote nothing: the return is
    known already, or something waits for it; the caller then takes the transaction
    (`store_new_return` after `lock_return_id`), which binds what is held or answers the resend.
    `recorded` as for `store_new_return`. `keyed`: the request's `Idempotency-Key`, whose row
    is stored with `answer` (JSON) and `answer_status`, completed at the call's transaction
    time (the clock of its `created_at`), when the entry is, and
    which makes the call write nothing when it was used before."""
    key_row: tuple[object, ...] = ()
    if keyed is not None:
        key_row = (
            keyed.client_id,
            keyed.key,
            keyed.route,
            keyed.request_hash,
            answer_status,
            answer,
        )
    outcome = await connection.fetchval(
        _STORE_NEW_RETURN_ALONE if keyed is None else _STORE_NEW_RETURN_KEYED,
        *key_row,
        return_id,
        owner.seller_id,
        owner.partner_id,
        owner.awb,
        *recorded_arguments(recorded),
    )
    return bool(outcome == "stored")


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


# A refund's feed entry in one round trip, as a return's: the refund, and its event's outbox row
# and history line only when the refund is new (the refund id is the feed's redelivery guard).
_STORE_NEW_REFUND = text(
    f"""
WITH stored AS (
    INSERT INTO {RefundRecord.__tablename__} (refund_id, return_id, payload, ce_id)
    VALUES (CAST(:refund_id AS varchar), CAST(:return_id AS varchar), CAST(:payload AS jsonb),
            CAST(:ce_id AS uuid))
    ON CONFLICT (refund_id) DO NOTHING
    RETURNING ce_id, payload
), {published_and_logged("stored")}
SELECT ce_id FROM stored
"""
).columns(ce_id=PgUUID(as_uuid=True))


async def store_new_refund(
    session: AsyncSession, *, refund_id: str, return_id: str, recorded: dict[str, object]
) -> UUID | None:
    """The statement above: the event's ce_id, or None when the refund was known already (then
    nothing was written). `recorded` as for `store_new_return`."""
    ce_id: UUID | None = await session.scalar(
        _STORE_NEW_REFUND, {"refund_id": refund_id, "return_id": return_id, **recorded}
    )
    return ce_id


async def get_refund(session: AsyncSession, refund_id: str) -> RefundRecord | None:
    return await session.get(RefundRecord, refund_id)


async def partner_ids(connection: Connection) -> list[str]:
    """Every partner id of the registry (a handful of rows)."""
    return [row[0] for row in await connection.fetch("SELECT partner_id FROM partners")]
