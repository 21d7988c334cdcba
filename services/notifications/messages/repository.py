"""SQL of outgoing messages and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import CaseCall, DeliveryAttempt, Message
from shared import paging

REMINDER = "evidence_reminder"
EVIDENCE_REQUEST = "evidence_request"
# Said on a reminder the case made unnecessary (the API shows it as the message's last error).
REMINDER_CANCELLED = "not sent: the case moved on before the reminder was due"
# Said on an evidence request held for an address when the case stopped waiting for it.
REQUEST_MOOT = (
    "not sent: the case stopped waiting for this evidence before the seller had an address"
)
# Said on an answer to evidence that more evidence overtook before it was sent.
ANSWER_OVERTAKEN = "not sent: more evidence came before it was due; a later message answers it"
MERGE_ACKNOWLEDGEMENT = "merge_acknowledgement"
# Said on a filing's acknowledgement that the case's own answer to the filing replaced.
ACKNOWLEDGEMENT_ANSWERED = (
    "not sent: the case answered the filing at once; that message says the claim joined the case"
)
# Said on a filing's acknowledgement, worded for the wait for evidence, that the case left
# before it went out (a decision, a review, the checklist met).
ACKNOWLEDGEMENT_OUTDATED = (
    "not sent: the case moved on before it was due; an acknowledgement worded for where the "
    "case stands replaced it"
)
# The status of a message a later one replaced before it went out: nothing was withdrawn from
# the seller (`cancelled` read to the desk as if something had been), a later message says it.
SUPERSEDED = "superseded"


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> UUID | None:
    """Insert unless a message with the same dedup key exists; the new id, or None."""
    return await session.scalar(
        pg_insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Message.message_id)
    )


# Statuses of messages withdrawn before they went out: nothing reached the seller, so they take
# no place in the seller's day (a digest whose every lesson was withdrawn, a message a later one
# replaced).
WITHDRAWN = ("cancelled", SUPERSEDED)


async def count_non_essential(
    session: AsyncSession,
    *,
    seller_id: str,
    start: datetime,
    end: datetime,
    excluding: UUID | None = None,
) -> int:
    """Non-essential messages to a seller planned in [start, end), sent or still to go (also
    those that failed: the seller may have had them); not those withdrawn before they went
    out, and not `excluding` (a message being timed again)."""
    query = (
        select(func.count())
        .select_from(Message)
        .where(
            Message.seller_id == seller_id,
            Message.essential.is_(False),
            Message.resend_of.is_(None),
            Message.status.not_in(WITHDRAWN),
            Message.next_attempt_at >= start,
            Message.next_attempt_at < end,
        )
    )
    if excluding is not None:
        query = query.where(Message.message_id != excluding)
    return await session.scalar(query) or 0


async def deferred_non_essential(
    session: AsyncSession, *, seller_id: str, after: datetime
) -> list[Message]:
    """The seller's non-essential messages the daily limit moved to a later time than `after`
    and not yet tried (a retry's later time is its backoff's, not the limit's), earliest
    first; row-locked, so a dispatcher cannot claim one while it is timed again."""
    return list(
        await session.scalars(
            select(Message)
            .where(
                Message.seller_id == seller_id,
                Message.essential.is_(False),
                Message.resend_of.is_(None),
                Message.status == "pending",
                Message.attempts == 0,
                Message.next_attempt_at > after,
            )
            .order_by(Message.next_attempt_at, Message.message_id)
            .with_for_update()
        )
    )


async def get(session: AsyncSession, message_id: UUID) -> Message | None:
    return await session.get(Message, message_id)


# Newest first; the id breaks ties, so that a cursor names one position.
ORDER = ((Message.created_at, True), (Message.message_id, False))


async def search(
    session: AsyncSession,
    *,
    seller_id: str | None,
    case_id: str | None,
    limit: int,
    after: tuple[datetime, UUID] | None = None,
) -> list[Message]:
    query = select(Message).order_by(*paging.order_by(ORDER)).limit(limit)
    if after is not None:
        query = query.where(paging.after(ORDER, after))
    if seller_id is not None:
        query = query.where(Message.seller_id == seller_id)
    if case_id is not None:
        query = query.where(Message.case_id == case_id)
    return list(await session.scalars(query))


async def attempts_of(
    session: AsyncSession, message_ids: list[UUID]
) -> dict[UUID, list[DeliveryAttempt]]:
    out: dict[UUID, list[DeliveryAttempt]] = {m: [] for m in message_ids}
    if not message_ids:
        return out
    rows = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.message_id.in_(message_ids))
        .order_by(DeliveryAttempt.message_id, DeliveryAttempt.attempt)
    )
    for row in rows:
        out[row.message_id].append(row)
    return out


async def cancel_reminders(session: AsyncSession, *, case_id: str, before_version: int) -> int:
    """Reminders of earlier evidence requests on this case that have not gone out, cancelled."""
    return await _cancel_unsent(
        session, REMINDER, REMINDER_CANCELLED, case_id=case_id, before_version=before_version
    )


async def cancel_held_requests(session: AsyncSession, *, case_id: str, before_version: int) -> int:
    """Evidence requests of this case held for want of the seller's address (never sent),
    cancelled once the case no longer waits for that evidence: released when the directory
    learns the address, they would ask for evidence by a date, on pain of closing the case, on
    a case decided meanwhile (the desk's P2 case a seller's own claim joined and completed)."""
    return await _cancel_unsent(
        session,
        EVIDENCE_REQUEST,
        REQUEST_MOOT,
        case_id=case_id,
        before_version=before_version,
        also=(Message.status == "held",),
    )


async def cancel_unsent_answers(
    session: AsyncSession, *, case_id: str, before_version: int, now: datetime
) -> int:
    """Answers to earlier evidence on this case, waiting for the seller's uploads to settle
    (`composing.answer_after_uploads_settle`) and not yet due, cancelled: the next answer says
    everything that has reached us, this one would say less."""
    return await _cancel_unsent(
        session,
        EVIDENCE_REQUEST,
        ANSWER_OVERTAKEN,
        case_id=case_id,
        before_version=before_version,
        also=(Message.attempts == 0, Message.next_attempt_at > now),
        status=SUPERSEDED,
    )


async def last_evidence_answer_at(
    session: AsyncSession, *, case_id: str, before_version: int
) -> datetime | None:
    """When the case's latest answer to evidence went out (or is due), if it had one: a
    message marked `answers_evidence` when composed, not cancelled or superseded. The case's
    other evidence requests (its first, a claim's own joining a P2 case, a desk's, one after a
    reopened case) answer nothing and do not count."""
    return await session.scalar(
        select(func.max(func.coalesce(Message.sent_at, Message.next_attempt_at))).where(
            Message.case_id == case_id,
            Message.template == EVIDENCE_REQUEST,
            Message.answers_evidence.is_(True),
            Message.status.not_in(("cancelled", SUPERSEDED)),
            Message.case_version < before_version,
        )
    )


async def supersede_unsent_acknowledgements(
    session: AsyncSession,
    *,
    case_id: str,
    before_version: int,
    now: datetime,
    answer_at: datetime,
) -> int:
    """Acknowledgements of a filing merged into this case, waiting for the case's own answer
    (`composing.acknowledge_after_the_case_answers`), superseded by that answer: only those
    still unsent and due no earlier than the answer goes out (`answer_at`). An answer that
    would come later leaves the acknowledgement be: the filing is told in time, and twice
    rather than late."""
    return await _cancel_unsent(
        session,
        MERGE_ACKNOWLEDGEMENT,
        ACKNOWLEDGEMENT_ANSWERED,
        case_id=case_id,
        before_version=before_version,
        also=(
            Message.attempts == 0,
            Message.next_attempt_at > now,
            Message.next_attempt_at >= answer_at,
        ),
        status=SUPERSEDED,
    )


async def supersede_outdated_acknowledgements(
    session: AsyncSession, *, case_id: str, before_version: int, now: datetime
) -> datetime | None:
    """Acknowledgements of a filing merged while the case waited for evidence, still unsent
    (pending and not yet due, or held for an address), superseded: they were rendered for that
    wait ("send what is still missing by ...") and the case has left it. Returns the earliest
    time one was due (the replacement keeps the SOP's acknowledgement time), or None."""
    result = await session.execute(
        update(Message)
        .where(
            Message.case_id == case_id,
            Message.template == MERGE_ACKNOWLEDGEMENT,
            Message.case_version < before_version,
            Message.attempts == 0,
            or_(
                Message.status == "held",
                and_(Message.status == "pending", Message.next_attempt_at > now),
            ),
        )
        .values(status=SUPERSEDED, last_error=ACKNOWLEDGEMENT_OUTDATED)
        .returning(Message.next_attempt_at)
    )
    due = [row[0] for row in result.all()]
    return min(due) if due else None


async def restore_acknowledgement(session: AsyncSession, *, case_id: str, version: int) -> None:
    """The superseded acknowledgement of the filing merged at `version`, pending again at its
    own due time: the answer that replaced it was overtaken unsent (`filing_joined_untold`)."""
    await session.execute(
        update(Message)
        .where(
            Message.case_id == case_id,
            Message.template == MERGE_ACKNOWLEDGEMENT,
            Message.case_version == version,
            Message.status == SUPERSEDED,
            Message.attempts == 0,
        )
        .values(status="pending", last_error=None)
    )


# The case's messages that tell a seller their filing joined the case: the acknowledgement, or
# the evidence request that replaced it (`filing_joined`); a decision follows the
# acknowledgement rather than replacing it.
TELLS_FILING_JOINED = (MERGE_ACKNOWLEDGEMENT, EVIDENCE_REQUEST)


async def filing_joined_untold(
    session: AsyncSession, *, case_id: str, before_version: int
) -> int | None:
    """The version of a filing's acknowledgement that was superseded with nothing after it
    still telling the seller (the request that replaced it was itself superseded: more
    evidence came before it went out), if any. The next answer then carries the news on
    (`filing_joined`), or, a decision, sends the acknowledgement after all."""
    superseded_at = await session.scalar(
        select(func.max(Message.case_version)).where(
            Message.case_id == case_id,
            Message.template == MERGE_ACKNOWLEDGEMENT,
            Message.status == SUPERSEDED,
            Message.case_version < before_version,
        )
    )
    if superseded_at is None:
        return None
    told = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.case_id == case_id,
            Message.template.in_(TELLS_FILING_JOINED),
            Message.status.not_in(("cancelled", SUPERSEDED)),
            Message.case_version > superseded_at,
            Message.case_version < before_version,
        )
    )
    return None if told else int(superseded_at)


async def _cancel_unsent(
    session: AsyncSession,
    template: str,
    why: str,
    *,
    case_id: str,
    before_version: int,
    also: tuple[ColumnElement[bool], ...] = (),
    status: str = "cancelled",
) -> int:
    """The case's messages of `template` from before `before_version` not yet sent, given
    `status` (cancelled, or superseded by a later message), saying `why` (the API shows it as
    the message's last error)."""
    result = await session.execute(
        update(Message)
        .where(
            Message.case_id == case_id,
            Message.template == template,
            Message.status.in_(("pending", "held")),
            Message.case_version < before_version,
            *also,
        )
        .values(status=status, last_error=why)
        .returning(Message.message_id)
    )
    return len(result.all())


async def add_call(
    session: AsyncSession,
    *,
    case_id: str,
    case_version: int,
    seller_id: str,
    summary: str,
    logged_at: datetime,
) -> None:
    await session.execute(
        pg_insert(CaseCall)
        .values(
            case_id=case_id,
            case_version=case_version,
            seller_id=seller_id,
            summary=summary,
            logged_at=logged_at,
        )
        .on_conflict_do_nothing(index_elements=["case_id", "case_version"])
    )


async def untold_calls(
    session: AsyncSession, *, case_id: str, before_version: int
) -> list[CaseCall]:
    return list(
        await session.scalars(
            select(CaseCall)
            .where(
                CaseCall.case_id == case_id,
                CaseCall.told_in.is_(None),
                CaseCall.case_version < before_version,
            )
            .order_by(CaseCall.case_version)
        )
    )


async def mark_calls_told(
    session: AsyncSession, *, case_id: str, versions: list[int], dedup_key: str
) -> None:
    await session.execute(
        update(CaseCall)
        .where(CaseCall.case_id == case_id, CaseCall.case_version.in_(versions))
        .values(told_in=dedup_key)
    )
