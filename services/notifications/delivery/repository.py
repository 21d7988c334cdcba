"""SQL of the dispatcher: claiming due messages under a lease, and the suppression lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, DateTime, column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.models import Message, Suppression
from shared.db import fetch_autocommitted

# Every column of a message, in the table's order: what the claim returns of each row it takes.
_COLUMNS = [c.name for c in Message.__table__.columns]

# One statement per wake-up: claim the due messages (pending and scheduled for now or earlier,
# or `sending` under a lease that ran out: their dispatcher died mid-send), say of each whether
# its recipient is suppressed, and say when the next message not claimed falls due. A wake-up
# with nothing due is this statement and nothing else, autocommitted (`claim_due`).
#
# `due` takes its rows with SKIP LOCKED, so several dispatchers share the work. The update's
# effects are invisible to the rest of the statement, so `following` reads the rows as they
# were and leaves out the ones just claimed: a due row another dispatcher holds locked is
# still counted, and stays due until it commits (the caller waits a little, not at all).
# The outer join gives one row with only `next_due` when nothing is claimed.
_CLAIM_DUE_SQL = text(
    f"""
    WITH due AS (
        SELECT message_id FROM messages
        WHERE (status = 'pending' AND next_attempt_at <= :now)
           OR (status = 'sending' AND lease_until < :now)
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE messages AS m SET status = 'sending', lease_until = :lease_until
        FROM due WHERE m.message_id = due.message_id
        RETURNING {", ".join(f"m.{name}" for name in _COLUMNS)},
            EXISTS (
                SELECT 1 FROM suppressions AS s WHERE s.address_hash = m.recipient_hash
            ) AS suppressed
    ), following AS (
        SELECT least(
            (SELECT min(next_attempt_at) FROM messages
             WHERE status = 'pending' AND message_id NOT IN (SELECT message_id FROM due)),
            (SELECT min(lease_until) FROM messages
             WHERE status = 'sending' AND message_id NOT IN (SELECT message_id FROM due))
        ) AS next_due
    )
    SELECT following.next_due, claimed.* FROM following LEFT JOIN claimed ON true
    """
).columns(  # typed in the result's order, so each value is the model's (jsonb decoded, UUIDs)
    column("next_due", DateTime(timezone=True)),
    *(column(c.name, c.type) for c in Message.__table__.columns),
    column("suppressed", Boolean),
)


@dataclass(frozen=True)
class Claim:
    """What one claim took: its messages in due order, those whose recipient is suppressed,
    and when the next message it did not take falls due (None: none is waiting)."""

    messages: list[Message]
    suppressed: frozenset[UUID]
    next_due: datetime | None
    lease_until: datetime  # the lease its messages are held under


async def claim_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> Claim:
    """Mark up to `limit` due messages as `sending` until `lease_until` and return them, in one
    autocommitted statement (`_CLAIM_DUE_SQL`): no BEGIN and COMMIT around it, and nothing else
    is needed to know how long to sleep after the round."""
    rows = await fetch_autocommitted(
        sessionmaker, _CLAIM_DUE_SQL, {"now": now, "lease_until": lease_until, "limit": limit}
    )
    messages = [
        Message(**{name: row[name] for name in _COLUMNS})
        for row in rows
        if row["message_id"] is not None
    ]
    messages.sort(key=lambda m: m.next_attempt_at)
    return Claim(
        messages=messages,
        suppressed=frozenset(
            row["message_id"] for row in rows if row["message_id"] is not None and row["suppressed"]
        ),
        next_due=rows[0]["next_due"] if rows else None,
        lease_until=lease_until,
    )


async def suppressed_hashes(session: AsyncSession, hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    return set(
        await session.scalars(
            select(Suppression.address_hash).where(Suppression.address_hash.in_(hashes))
        )
    )


async def still_leased(
    session: AsyncSession, message_ids: list[UUID], *, lease_until: datetime
) -> set[UUID]:
    """Of the given messages, those still `sending` under this lease; locked until commit."""
    return set(
        await session.scalars(
            select(Message.message_id)
            .where(
                Message.message_id.in_(message_ids),
                Message.status == "sending",
                Message.lease_until == lease_until,
            )
            .with_for_update()
        )
    )


async def renew_lease(
    session: AsyncSession, message_ids: list[UUID], *, held: datetime, until: datetime
) -> int:
    """Extend the lease of the given messages still `sending` under `held` to `until`; returns
    how many were extended (a message whose lease ran out and was taken over is not)."""
    result = await session.execute(
        update(Message)
        .where(
            Message.message_id.in_(message_ids),
            Message.status == "sending",
            Message.lease_until == held,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
