"""SQL of inbound email: replies, attachments, and what they are matched against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import (
    InboundAttachment,
    InboundEmail,
    Message,
    SellerProfile,
)
from shared import paging


@dataclass(frozen=True, slots=True)
class CaseRef:
    case_id: str
    seller_id: str
    return_id: str | None


async def by_dedup(session: AsyncSession, dedup_key: str) -> InboundEmail | None:
    return await session.scalar(select(InboundEmail).where(InboundEmail.dedup_key == dedup_key))


async def case_ref(session: AsyncSession, case_id: str) -> CaseRef | None:
    """The case as our own mail knows it: the seller we wrote to about it."""
    row = (
        await session.execute(
            select(Message.seller_id, Message.return_id)
            .where(
                Message.case_id == case_id,
                Message.audience == "seller",
                Message.seller_id.is_not(None),
            )
            .limit(1)
        )
    ).first()
    if row is None or row.seller_id is None:
        return None
    return CaseRef(case_id, row.seller_id, row.return_id)


async def sellers_writing_from(
    session: AsyncSession, *, address: str, address_hash: str
) -> list[str]:
    """Sellers this sender is: in the directory, or a recipient of our seller mail."""
    found = set(
        await session.scalars(
            select(SellerProfile.seller_id).where(SellerProfile.emails.contains([address]))
        )
    )
    found.update(
        s
        for s in await session.scalars(
            select(Message.seller_id)
            .where(Message.recipient_hash == address_hash, Message.seller_id.is_not(None))
            .distinct()
            .limit(20)
        )
        if s
    )
    return sorted(found)


async def latest_case_of(session: AsyncSession, seller_id: str) -> str | None:
    return await session.scalar(
        select(Message.case_id)
        .where(Message.seller_id == seller_id, Message.case_id.is_not(None))
        .order_by(Message.created_at.desc())
        .limit(1)
    )


def add(session: AsyncSession, row: InboundEmail | InboundAttachment) -> None:
    session.add(row)


async def get(session: AsyncSession, reply_id: UUID) -> InboundEmail | None:
    return await session.get(InboundEmail, reply_id)


async def attachment(session: AsyncSession, attachment_id: UUID) -> InboundAttachment | None:
    return await session.get(InboundAttachment, attachment_id)


async def of_case(session: AsyncSession, case_id: str) -> list[InboundEmail]:
    return list(
        await session.scalars(
            select(InboundEmail)
            .where(InboundEmail.case_id == case_id, InboundEmail.status == "attached")
            .order_by(InboundEmail.received_at)
        )
    )


async def messages_of_case(session: AsyncSession, case_id: str) -> list[Message]:
    return list(
        await session.scalars(
            select(Message)
            .where(Message.case_id == case_id, Message.audience == "seller")
            .order_by(Message.created_at)
        )
    )


async def has_conversation(session: AsyncSession, case_id: str) -> bool:
    """Whether the case's conversation holds anything: a message to its seller or a reply."""
    sent = select(Message.message_id).where(
        Message.case_id == case_id, Message.audience == "seller"
    )
    replied = select(InboundEmail.reply_id).where(
        InboundEmail.case_id == case_id, InboundEmail.status == "attached"
    )
    return bool(await session.scalar(select(exists(sent) | exists(replied))))


# Triage: newest first; the id breaks ties so that a cursor names one position.
TRIAGE_ORDER = ((InboundEmail.received_at, True), (InboundEmail.reply_id, False))


async def triage(
    session: AsyncSession, *, limit: int, after: tuple[datetime, UUID] | None = None
) -> list[InboundEmail]:
    """Up to `limit + 1` replies waiting in triage (the extra one tells there is a next page)."""
    query = select(InboundEmail).where(InboundEmail.status == "triage")
    if after is not None:
        query = query.where(paging.after(TRIAGE_ORDER, after))
    return list(
        await session.scalars(query.order_by(*paging.order_by(TRIAGE_ORDER)).limit(limit + 1))
    )


async def unread_by_case(
    session: AsyncSession, *, limit: int, after: tuple[datetime, str] | None = None
) -> list[tuple[str, int, datetime]]:
    """Up to `limit + 1` cases with unread seller replies, by their latest reply, oldest first."""
    unread = (
        select(
            InboundEmail.case_id.label("case_id"),
            func.count().label("replies"),
            func.max(InboundEmail.received_at).label("latest"),
        )
        .where(
            InboundEmail.status == "attached",
            InboundEmail.read_at.is_(None),
            InboundEmail.case_id.is_not(None),
        )
        .group_by(InboundEmail.case_id)
        .subquery()
    )
    order = ((unread.c.latest, False), (unread.c.case_id, False))
    query = select(unread.c.case_id, unread.c.replies, unread.c.latest)
    if after is not None:
        query = query.where(paging.after(order, after))
    rows = await session.execute(query.order_by(*paging.order_by(order)).limit(limit + 1))
    return [(str(r[0]), int(r[1]), r[2]) for r in rows]


@dataclass(frozen=True, slots=True)
class ReadReply:
    reply_id: UUID
    return_id: str | None
    received_at: datetime


async def mark_read(
    session: AsyncSession, *, case_id: str, by: str, now: datetime
) -> list[ReadReply]:
    """Mark the case's unread replies read; the ones it marked."""
    result = await session.execute(
        update(InboundEmail)
        .where(InboundEmail.case_id == case_id, InboundEmail.read_at.is_(None))
        .values(read_at=now, read_by=by)
        .returning(InboundEmail.reply_id, InboundEmail.return_id, InboundEmail.received_at)
    )
    return [ReadReply(r[0], r[1], r[2]) for r in result.all()]


async def mark_failing(session: AsyncSession, *, seller_id: str, address: str) -> bool:
    """Add the address to the seller's failing list (once); False when it is not the
    seller's directory address (a case's own reply address is not the directory's)."""
    profile = await session.get(SellerProfile, seller_id, with_for_update=True)
    if profile is None or address not in profile.emails:
        return False
    if address not in profile.failing_emails:
        profile.failing_emails = [*profile.failing_emails, address]
    return True
