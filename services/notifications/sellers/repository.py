"""SQL of the seller directory, and of the held messages it releases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.held_release import Verdict
from services.notifications.models import Message, SellerProfile, SellerProfileChange

# Advisory-lock namespace of the seller directory (the first key of the two-key form).
LOCK_NAMESPACE = 0x5E11


async def lock_seller(session: AsyncSession, seller_id: str, *, exclusive: bool) -> None:
    """A transaction-scoped lock on one seller's directory entry. A directory update takes it
    exclusively and a consumer about to hold a message takes it shared (consumers never wait
    on each other): a message is then either held before the update, which releases it, or
    queued after it, with the new address; never held unseen by the update that would free it."""
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    await session.execute(select(lock(LOCK_NAMESPACE, func.hashtext(seller_id))))


async def lock_sellers(session: AsyncSession, seller_ids: Sequence[str]) -> None:
    """The shared lock of `lock_seller` on several sellers in one statement, in the order
    given (callers sort: every transaction then takes them in one order)."""
    if seller_ids:
        await session.execute(_LOCK_SHARED, {"ids": list(seller_ids), "ns": LOCK_NAMESPACE})


_LOCK_SHARED = text(
    "SELECT pg_advisory_xact_lock_shared(:ns, hashtext(s.id)) "
    "FROM unnest(CAST(:ids AS varchar[])) WITH ORDINALITY AS s(id, n) ORDER BY s.n"
)


@dataclass(frozen=True, slots=True)
class Contactable:
    """What the consumers need of a seller's profile: where to write, in which language, and
    what the seller asked for (PII: the addresses are never logged)."""

    emails: list[str]
    failing_emails: list[str]
    language: str
    preferences: dict[str, Any]


# A Core read of the columns the consumers need: no ORM object per profile.
_CONTACTABLE = text(
    "SELECT seller_id, emails, failing_emails, language, preferences FROM seller_profiles "
    "WHERE seller_id = ANY(CAST(:ids AS varchar[]))"
)


async def contactable(session: AsyncSession, seller_ids: Sequence[str]) -> dict[str, Contactable]:
    """The sellers' profiles that exist, by seller id, in one statement."""
    if not seller_ids:
        return {}
    rows = await session.execute(_CONTACTABLE, {"ids": list(seller_ids)})
    return {
        r.seller_id: Contactable(
            emails=list(r.emails or []),
            failing_emails=list(r.failing_emails or []),
            language=r.language,
            preferences=dict(r.preferences or {}),
        )
        for r in rows
    }


async def get(session: AsyncSession, seller_id: str, *, lock: bool = False) -> SellerProfile | None:
    query = select(SellerProfile).where(SellerProfile.seller_id == seller_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


def add(session: AsyncSession, row: SellerProfile | SellerProfileChange) -> None:
    session.add(row)


async def history(session: AsyncSession, seller_id: str) -> list[SellerProfileChange]:
    return list(
        await session.scalars(
            select(SellerProfileChange)
            .where(SellerProfileChange.seller_id == seller_id)
            .order_by(SellerProfileChange.version.desc())
        )
    )


async def held_messages(session: AsyncSession, seller_id: str) -> list[Message]:
    """This seller's held messages, locked: a directory update releases them once."""
    return list(
        await session.scalars(
            select(Message)
            .where(Message.seller_id == seller_id, Message.status == "held")
            .with_for_update()
        )
    )


async def release(
    session: AsyncSession,
    *,
    verdicts: Sequence[Verdict],
    recipient: str,
    recipient_hash: str,
    late: dict[Any, dict[str, str]],
) -> None:
    """Apply each held message's verdict: due at its time with the address (in its late
    words when it has passed its deadline), or closed unsent with why."""
    for v in verdicts:
        if v.action in ("send", "send_late"):
            values: dict[str, Any] = {
                "status": "pending",
                "recipient": recipient,
                "recipient_hash": recipient_hash,
                "next_attempt_at": v.send_at,
                "last_error": None,
            }
            if v.action == "send_late":
                words = late[v.message_id]
                values.update(
                    subject=words["subject"], body_text=words["text"], body_html=words["html"]
                )
        else:
            values = {
                "status": "superseded" if v.action == "superseded" else "cancelled",
                "last_error": v.why,
            }
        await session.execute(
            update(Message).where(Message.message_id == v.message_id).values(**values)
        )
