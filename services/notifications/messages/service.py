"""Queue each message once per (case, template, case version), throttling non-essential mail.

Queueing happens in the consumer's transaction, so a redelivered event queues nothing new, and
the message is rendered then: what we store is exactly what the seller will read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.notifications.addresses import address_hash, open_contact
from services.notifications.digests import repository as digests_repository
from services.notifications.digests import service as digests
from services.notifications.messages import release, repository
from services.notifications.messages.composing import (
    ANSWERS_FILING,
    NEGATIVE_RATING,
    NO_ADDRESS,
    SELLER,
    Composition,
    Draft,
    cancels_reminder,
    compose_appeal_without_case,
    compose_case_event,
    compose_feedback,
    compose_fraud_alert,
    compose_partner_statement,
    compose_task_event,
    digest_context,
    in_language,
    may_compose,
    refreshed_acknowledgement,
    replaces_acknowledgement,
    undoes_closure,
)
from services.notifications.messages.rendering import INDIA, render
from services.notifications.messages.repository import EVIDENCE_REQUEST
from services.notifications.metrics import SELLER_UNTOLD
from services.notifications.models import Digest, DigestItem, Message, Outbox
from services.notifications.sellers import service as sellers
from services.notifications.sellers.service import CALL_SUMMARIES, EDUCATION, OUTREACH
from services.notifications.settings import NotificationsSettings
from shared.events import (
    AppealWithoutCase,
    CaseEventBase,
    CaseNoteAdded,
    CaseState,
    CaseTaskEventBase,
    EventPayload,
    EvidenceRequested,
    FraudAlertRaised,
    NotificationFailed,
    PartnerStatementIssued,
    SellerFeedbackReceived,
)
from shared.outbox import enqueue
from shared.pii import ContactOpener
from shared.tracing import current_traceparent
from shared.unit_of_work import unit_of

log = logging.getLogger(__name__)
SOURCE = "disputedesk/notifications"
# Said on the case's timeline (reconciliation records NotificationFailed there) and in the API.
UNTOLD = (
    "seller could not be told: no reply address on the case and the seller is not in the "
    "seller directory; the message is held and goes out once the directory has an address"
)
# Said on a digest's message every lesson of which was withdrawn before it went out.
LESSONS_WITHDRAWN = (
    "not sent: the claims it taught from were reopened or decided on appeal before it went out"
)
# Logged calls with this counterpart are summarised to the seller (CaseNoteAdded.call_counterpart).
CALL_WITH_SELLER = "SELLER"
# Deferred non-essential mail goes out at a civil hour of the seller's next day.
MORNING = time(9, 0)


def india_day_start(when: datetime) -> datetime:
    local = when.astimezone(INDIA)
    return datetime.combine(local.date(), time(0, 0), tzinfo=INDIA)


async def throttled_send_time(
    session: AsyncSession,
    *,
    seller_id: str,
    now: datetime,
    settings: NotificationsSettings,
    excluding: UUID | None = None,
) -> datetime:
    """When a non-essential message to this seller may go: now, or the first India day that
    still has room under the per-seller daily limit (`excluding` a message timed again, which
    would otherwise hold a place against itself)."""
    limit = settings.seller_daily_non_essential_limit
    day = india_day_start(now)
    candidate = now
    for _ in range(60):
        count = await repository.count_non_essential(
            session,
            seller_id=seller_id,
            start=day,
            end=day + timedelta(days=1),
            excluding=excluding,
        )
        if count < limit:
            return candidate
        day = day + timedelta(days=1)
        candidate = datetime.combine(day.date(), MORNING, tzinfo=INDIA)
    return candidate


# Rows per INSERT batch.
INSERT_CHUNK = 500


@dataclass(slots=True)
class _Buffered:
    """A transaction's message rows waiting for its commit, and whether its session already
    flushes them before committing."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    hooked: bool = False


def _flush_pending_sync(sync_session: Session) -> None:
    buffered = unit_of(sync_session).find(_Buffered)
    if buffered is None:
        return
    rows, buffered.rows = buffered.rows, []
    for start in range(0, len(rows), INSERT_CHUNK):
        # Parameters passed separately (executemany): the statement compiles once and is
        # cached, where `.values(rows)` would compile every row's parameters each time.
        sync_session.execute(
            pg_insert(Message).on_conflict_do_nothing(index_elements=["dedup_key"]),
            rows[start : start + INSERT_CHUNK],
        )


def _buffer(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep a message row for one multi-row INSERT just before the transaction commits: a
    backlog of case events then costs one round trip per consumer batch, not one per event."""
    buffered = unit_of(session).get(_Buffered)
    if not buffered.hooked:
        buffered.hooked = True
        event.listen(session.sync_session, "before_commit", _flush_pending_sync)
    buffered.rows.append(row)


async def flush_pending(session: AsyncSession) -> None:
    """Write buffered rows now (before reading messages in the same transaction)."""
    await session.run_sync(_flush_pending_sync)


async def queue_draft(
    session: AsyncSession,
    *,
    draft: Draft,
    settings: NotificationsSettings,
    now: datetime,
    buffered: bool = False,
) -> UUID | None:
    """Render and store a draft unless its dedup key was stored before.

    Returns the new message id, or None for a duplicate. `buffered` essential drafts are
    written at commit (see `_buffer`) and return their prospective id.
    """
    rendered = render(draft.template, draft.context, draft.language)
    send_at = draft.send_at or now
    if not draft.essential and draft.seller_id:
        await flush_pending(session)  # the throttle counts what this batch queued, too
        send_at = await throttled_send_time(
            session, seller_id=draft.seller_id, now=now, settings=settings
        )
        if send_at > now:
            log.info(
                "non-essential message deferred by the per-seller daily limit",
                extra={"template": draft.template, "seller_id": draft.seller_id},
            )
    message_id = uuid4()
    row: dict[str, Any] = {
        "message_id": message_id,
        "dedup_key": draft.dedup_key,
        "template": draft.template,
        "audience": draft.audience,
        "essential": draft.essential,
        "case_id": draft.case_id,
        "case_version": draft.case_version,
        "return_id": draft.return_id,
        "seller_id": draft.seller_id,
        "subject_key": draft.subject_key,
        "recipient": draft.recipient,
        "recipient_hash": address_hash(draft.recipient, settings.address_hash_key),
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "attachments": [dict(a) for a in draft.attachments],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": send_at,
        "traceparent": current_traceparent(),
        "answers_evidence": draft.answers_evidence,
        "last_error": None,  # every buffered row has the same keys (one executemany)
    }
    held = draft.audience == SELLER and draft.recipient == NO_ADDRESS
    if held:
        row.update(status="held", recipient_hash="", last_error=UNTOLD)
        # It may reach the seller days late: when what it says stops being true, and its words
        # then (`release.plan` reads them when the directory learns the address).
        true_until, late = release.deadline_and_late_words(
            draft.template, draft.context, draft.language
        )
        row.update(
            true_until=true_until,
            late=None
            if late is None
            else {"subject": late.subject, "text": late.text, "html": late.html},
        )
    elif buffered and draft.essential:
        _buffer(session, row)
        return message_id
    inserted = await repository.insert_once(session, row)
    if inserted is not None and held and send_at <= now:
        # A held reminder is not owed yet: if the directory learns an address first, it goes
        # out on time; the seller's earlier held message already says it could not be told.
        _record_untold(session, row, now=now)
    return inserted


def _record_untold(session: AsyncSession, row: dict[str, Any], *, now: datetime) -> None:
    """Once per held message (its insert is the dedup): counted, logged by id, and published
    so the case's timeline says the seller could not be told."""
    SELLER_UNTOLD.labels(row["template"]).inc()
    log.warning(
        "seller could not be told; message held until the seller directory has an address",
        extra={
            "case_id": row["case_id"],
            "seller_id": row["seller_id"],
            "template": row["template"],
        },
    )
    enqueue(
        session,
        Outbox,
        NotificationFailed(
            message_id=row["message_id"],
            subject_key=row["subject_key"] or row["seller_id"] or str(row["message_id"]),
            case_id=row["case_id"],
            return_id=row["return_id"],
            seller_id=row["seller_id"],
            template=row["template"],
            case_version=row["case_version"],
            attempts=1,
            error=UNTOLD,
            permanent=False,  # not final: the directory may learn an address
            failed_at=now,
        ),
        source=SOURCE,
    )


async def _queue(
    session: AsyncSession,
    composition: Composition,
    *,
    settings: NotificationsSettings,
    now: datetime,
) -> list[UUID]:
    queued = []
    for draft in composition.drafts:
        new_id = await queue_draft(session, draft=draft, settings=settings, now=now, buffered=True)
        if new_id is not None:
            queued.append(new_id)
    for lesson in composition.lessons:
        await digests.add_lesson(session, lesson=lesson, settings=settings, now=now)
    return queued


async def prefetch_sellers(session: AsyncSession, payloads: Sequence[EventPayload]) -> None:
    """Read the directory entries a consumer batch's case events and ratings will ask for, in
    one statement (and lock first, in one more, the sellers of those events that name no
    address of their own: `sellers.primary_address` reads theirs under the lock)."""
    about_sellers = [
        p
        for p in payloads
        if isinstance(p, CaseEventBase | SellerFeedbackReceived | AppealWithoutCase)
    ]
    await sellers.prefetch(
        session,
        seller_ids=[p.seller_id for p in about_sellers],
        addresses_for=[
            p.seller_id
            for p in about_sellers
            if p.seller_contact is None and getattr(p, "seller_email", None) is None
        ],
    )


def acts_on_case_event(event: CaseEventBase) -> bool:
    """Whether `handle_case_event` would write anything for this event: a message, a lesson,
    a logged call with the seller, or a reminder it cancels. The consumer skips the others
    before opening a transaction (`EventHandlers.on(..., acts_on=...)`)."""
    if cancels_reminder(event) or undoes_closure(event):
        return True
    if isinstance(event, CaseNoteAdded):
        return event.call_counterpart == CALL_WITH_SELLER
    return may_compose(event) or replaces_acknowledgement(event)


def acts_on_feedback(event: SellerFeedbackReceived) -> bool:
    """Only a negative rating may lead to outreach (`compose_feedback`)."""
    return event.rating <= NEGATIVE_RATING


async def handle_case_event(
    session: AsyncSession,
    *,
    event: CaseEventBase,
    settings: NotificationsSettings,
    now: datetime,
    opener: ContactOpener,
) -> list[UUID]:
    # Opened here, at the last moment: the address exists in clear only in this transaction
    # and in the message row that will be sent.
    address = open_contact(
        opener, sealed=event.seller_contact, legacy=event.seller_email, ref=event.case_id
    )
    # The case's own reply address first (the seller named it for this case), else the
    # directory's; else the seller's messages are held (NO_ADDRESS) until it has one.
    if address is None:
        address = await sellers.primary_address(session, event.seller_id) or NO_ADDRESS
    answers_overtaken = 0
    if cancels_reminder(event):
        await flush_pending(session)  # a reminder queued earlier in this batch, too
        await repository.cancel_reminders(
            session, case_id=event.case_id, before_version=event.case_version
        )
        if event.state != CaseState.AWAITING_EVIDENCE:
            await repository.cancel_held_requests(
                session, case_id=event.case_id, before_version=event.case_version
            )
        answers_overtaken = await repository.cancel_unsent_answers(
            session, case_id=event.case_id, before_version=event.case_version, now=now
        )
        if (
            answers_overtaken
            and not isinstance(event, ANSWERS_FILING)
            and not replaces_acknowledgement(event)
        ):
            # More evidence overtook an answer unsent (reconciliation says so before its next
            # answer). If that answer was what told a merged filing it joined the case, the
            # filing's acknowledgement waits again: the next answer replaces it and says it, or
            # a decision sends it along, or, if no answer follows, it goes on its own.
            untold = await repository.filing_joined_untold(
                session, case_id=event.case_id, before_version=event.case_version
            )
            if untold is not None:
                await repository.restore_acknowledgement(
                    session, case_id=event.case_id, version=untold
                )
    outdated_due = (
        await _supersede_outdated_acknowledgements(
            session, event=event, now=now, answers_overtaken=answers_overtaken
        )
        if replaces_acknowledgement(event)
        else None
    )
    if isinstance(event, CaseNoteAdded) and event.call_counterpart == CALL_WITH_SELLER:
        await repository.add_call(
            session,
            case_id=event.case_id,
            case_version=event.case_version,
            seller_id=event.seller_id,
            summary=event.note,
            logged_at=event.occurred_at,
        )
    if undoes_closure(event):
        # The closure a lesson taught from was undone (the claim reopened, or decided after
        # all): a digest still to go out would tell the seller it was closed.
        await flush_pending(session)
        await withdraw_case_lessons(session, case_id=event.case_id, settings=settings, now=now)
    composition = compose_case_event(event, settings, now=now, seller_address=address)
    if outdated_due is not None:
        # Before the case's own news, due with it when it goes now (a decision, a review's
        # date), else when the outdated one was due (the SOP's time to acknowledge).
        news_now = any(d.audience == SELLER and d.send_at is None for d in composition.drafts)
        composition.drafts.insert(
            0,
            refreshed_acknowledgement(
                event, settings, address, send_at=None if news_now else outdated_due
            ),
        )
    composition = in_language(composition, await sellers.language(session, event.seller_id))
    if isinstance(event, EvidenceRequested):
        composition.drafts = [
            await _spaced_from_last_answer(session, draft, event=event, settings=settings)
            if draft.template == EVIDENCE_REQUEST and draft.send_at is not None
            else draft
            for draft in composition.drafts
        ]
    if isinstance(event, EvidenceRequested):
        await _answer_the_filing(
            session, composition, event=event, now=now, answers_overtaken=answers_overtaken
        )
    if composition.lessons and not await sellers.wants(session, event.seller_id, EDUCATION):
        composition.lessons.clear()  # the seller opted out of the education digest
    summarised = await _with_call_summary(session, event=event, composition=composition)
    queued = await _queue(session, composition, settings=settings, now=now)
    if summarised is not None:
        await repository.mark_calls_told(
            session,
            case_id=event.case_id,
            versions=summarised.versions,
            dedup_key=summarised.dedup_key,
        )
    return queued


async def digest_draft(
    session: AsyncSession, digest: Digest, items: list[DigestItem], settings: NotificationsSettings
) -> Draft:
    """The `policy_education` message of a digest's lessons: when it falls due, and again
    when lessons are withdrawn from it before it went out (`withdraw_case_lessons`)."""
    lessons = [{"topic": i.topic, "case_id": i.case_id, **i.context} for i in items]
    case_ids = {i.case_id for i in items if i.case_id}
    return Draft(
        template="policy_education",
        recipient=digest.recipient,
        dedup_key=f"digest:{digest.digest_id}",
        context=digest_context(digest.seller_id, lessons, settings),
        case_id=next(iter(case_ids)) if len(case_ids) == 1 else None,
        return_id=items[0].context.get("return_id") if len(items) == 1 else None,
        seller_id=digest.seller_id,
        subject_key=digest.seller_id,
        language=await sellers.language(session, digest.seller_id),
    )


async def release_deferred_non_essential(
    session: AsyncSession, *, seller_id: str, now: datetime, settings: NotificationsSettings
) -> None:
    """A non-essential message was withdrawn before it went out: the place it held in the
    seller's day is free again. Each message the daily limit moved to a later day is timed
    again, earliest first, to the first day that has room now (never later than it was)."""
    for message in await repository.deferred_non_essential(session, seller_id=seller_id, after=now):
        send_at = await throttled_send_time(
            session,
            seller_id=seller_id,
            now=now,
            settings=settings,
            excluding=message.message_id,
        )
        if send_at < message.next_attempt_at:
            message.next_attempt_at = send_at
            await session.flush()  # the next message's count sees this one's new day


async def withdraw_case_lessons(
    session: AsyncSession, *, case_id: str, settings: NotificationsSettings, now: datetime
) -> None:
    """The closure a case's lessons taught from was undone (the claim reopened, or an appeal
    overturned it): take them out of every digest the seller has not been sent.

    An open digest simply loses them. A digest already rendered but not sent (the seller's
    daily limit of non-essential mail moved it to a later day, or it waits for an address)
    is rendered again from the lessons left, in the same message, keeping its place in the
    seller's day; with none left, the message is cancelled."""
    await digests_repository.withdraw_case_lessons(session, case_id)
    rendered = await digests_repository.unsent_digests_teaching(session, case_id)
    if not rendered:
        return
    await digests_repository.remove_case_items(session, case_id, [d.digest_id for d in rendered])
    for digest in rendered:
        message = await repository.get(session, digest.message_id) if digest.message_id else None
        if message is None:
            continue
        items = await digests_repository.items_of(session, digest.digest_id)
        if not items:
            message.status = "cancelled"
            message.last_error = LESSONS_WITHDRAWN
            if digest.seller_id:
                await session.flush()
                await release_deferred_non_essential(
                    session, seller_id=digest.seller_id, now=now, settings=settings
                )
            continue
        draft = await digest_draft(session, digest, items, settings)
        page = render(draft.template, draft.context, draft.language)
        message.subject, message.body_text, message.body_html = page.subject, page.text, page.html
        message.case_id, message.return_id = draft.case_id, draft.return_id


async def _supersede_outdated_acknowledgements(
    session: AsyncSession, *, event: CaseEventBase, now: datetime, answers_overtaken: int
) -> datetime | None:
    """The case left the wait for evidence, or is decided: a merged filing's acknowledgement
    still unsent, written for the wait ("send what is still missing by ..."), or telling a
    decided case "we will write once it is decided", is superseded; one worded for where the
    case stands replaces it (`composing.refreshed_acknowledgement`). So is the duty of one
    whose replacing request more evidence overtook unsent (`filing_joined_untold`): a
    decision never says the filing joined. Returns when the replacement is due, or None.

    One UPDATE, no flush: an acknowledgement still buffered in this consumer batch (the merge
    and the move in one batch) is superseded in memory."""
    due = _supersede_buffered(session, case_id=event.case_id)
    stored = await repository.supersede_outdated_acknowledgements(
        session, case_id=event.case_id, before_version=event.case_version, now=now
    )
    if stored is not None:
        due.append(stored)
    if not due and answers_overtaken:
        untold = await repository.filing_joined_untold(
            session, case_id=event.case_id, before_version=event.case_version
        )
        if untold is not None:
            due.append(now)
    return min(due, default=None)


def _supersede_buffered(session: AsyncSession, *, case_id: str) -> list[datetime]:
    """`_supersede_outdated_acknowledgements` for the acknowledgements of this transaction
    still waiting for its commit: superseded in memory; the times they were due."""
    buffered = unit_of(session).find(_Buffered)
    due = []
    for row in buffered.rows if buffered is not None else ():
        if (
            row["case_id"] == case_id
            and row["template"] == repository.MERGE_ACKNOWLEDGEMENT
            and row["status"] in ("pending", "held")
        ):
            row.update(status=repository.SUPERSEDED, last_error=repository.ACKNOWLEDGEMENT_OUTDATED)
            due.append(row["next_attempt_at"])
    return due


async def _answer_the_filing(
    session: AsyncSession,
    composition: Composition,
    *,
    event: CaseEventBase,
    now: datetime,
    answers_overtaken: int,
) -> None:
    """The case's evidence request answering a filing merged into it while it waited for
    evidence, and the filing's acknowledgement (held back `evidence_settle_s` for that answer):
    a request that goes out no later than the acknowledgement would replaces it and says the
    claim joined the case (the SOP's time to acknowledge holds); one due later leaves it be.
    If a request that said it is overtaken unsent by more evidence, the next request says it
    in its turn. (A decision does not say it: `_supersede_outdated_acknowledgements` sends an
    acknowledgement worded for the decision along with it.)

    From the case's fourth version on, one UPDATE and no flush: an acknowledgement still
    buffered in this batch is handled in memory, and the untold check reads only after an
    answer was overtaken."""
    requests = [d for d in composition.drafts if d.template == EVIDENCE_REQUEST]
    if not requests or event.case_version <= 3:
        # Nothing to look for: an acknowledgement waits only for a filing merged while the
        # case waited for evidence (its third version at the earliest), so its answer comes
        # fourth at the earliest. A claim's first request costs no UPDATE.
        return
    untold = (
        await repository.filing_joined_untold(
            session, case_id=event.case_id, before_version=event.case_version
        )
        if answers_overtaken
        else None
    )
    answer_at = min(d.send_at or now for d in requests)
    replaced = _acknowledge_buffered(session, case_id=event.case_id, now=now, answer_at=answer_at)
    replaced += await repository.supersede_unsent_acknowledgements(
        session,
        case_id=event.case_id,
        before_version=event.case_version,
        now=now,
        answer_at=answer_at,
    )
    if replaced or untold is not None:
        for draft in requests:
            draft.context["filing_joined"] = True


def _acknowledge_buffered(
    session: AsyncSession, *, case_id: str, now: datetime, answer_at: datetime
) -> int:
    """`_answer_the_filing` for the acknowledgements of this transaction still waiting for its
    commit (a merge and its answer in one consumer batch): superseded by a request due at
    `answer_at` or earlier."""
    buffered = unit_of(session).find(_Buffered)
    changed = 0
    for row in buffered.rows if buffered is not None else ():
        if not (
            row["case_id"] == case_id
            and row["template"] == repository.MERGE_ACKNOWLEDGEMENT
            and row["status"] == "pending"
            and row["next_attempt_at"] > now
        ):
            continue
        if row["next_attempt_at"] < answer_at:
            continue
        row.update(status=repository.SUPERSEDED, last_error=repository.ACKNOWLEDGEMENT_ANSWERED)
        changed += 1
    return changed


async def _spaced_from_last_answer(
    session: AsyncSession,
    draft: Draft,
    *,
    event: EvidenceRequested,
    settings: NotificationsSettings,
) -> Draft:
    """An answer to evidence (due once the uploads settle) held to at least
    `evidence_answer_spacing_s` after the case's previous answer: uploads minutes apart then
    get one answer now and then, not one each. Not past the reply-by: an answer that would
    come after it goes when the uploads settle, as before."""
    assert draft.send_at is not None
    if settings.evidence_answer_spacing_s <= 0:
        return draft  # off (the default): each answer goes once its uploads settle
    await flush_pending(session)  # an answer queued earlier in this batch counts too
    last = await repository.last_evidence_answer_at(
        session, case_id=event.case_id, before_version=event.case_version
    )
    if last is None:
        return draft
    at = max(draft.send_at, last + timedelta(seconds=settings.evidence_answer_spacing_s))
    return draft if at >= event.reply_by else replace(draft, send_at=at)


@dataclass(frozen=True, slots=True)
class _CallSummary:
    versions: list[int]
    dedup_key: str  # of the message that carries the summary


async def _with_call_summary(
    session: AsyncSession, *, event: CaseEventBase, composition: Composition
) -> _CallSummary | None:
    """Calls logged with the seller since its last email ride on the next one sent now, if the
    seller asked for call summaries (off unless asked: a call is already a conversation). The
    case's own news carries them (a decision, a request): a filing's acknowledgement reworded
    to go along with it (`refreshed_acknowledgement`, first in the list) only when it goes
    alone, or the summary would sit in the email about the filing, not the one about the case."""
    going_now = [d for d in composition.drafts if d.audience == SELLER and d.send_at is None]
    draft = next(
        (d for d in going_now if d.template != repository.MERGE_ACKNOWLEDGEMENT),
        next(iter(going_now), None),
    )
    if draft is None or not await sellers.asked_for(session, event.seller_id, CALL_SUMMARIES):
        return None
    calls = await repository.untold_calls(
        session, case_id=event.case_id, before_version=event.case_version
    )
    if not calls:
        return None
    draft.context["calls"] = [
        {"logged_at": call.logged_at, "summary": call.summary} for call in calls
    ]
    return _CallSummary(versions=[call.case_version for call in calls], dedup_key=draft.dedup_key)


async def handle_appeal_without_case(
    session: AsyncSession,
    *,
    event: AppealWithoutCase,
    settings: NotificationsSettings,
    now: datetime,
    opener: ContactOpener,
) -> list[UUID]:
    """Answer an appeal on a return with no case: at the appealed claim's reply address, else
    the directory's, else held (NO_ADDRESS) until the seller has one."""
    address = open_contact(
        opener, sealed=event.seller_contact, legacy=None, ref=event.appeal_id
    ) or await sellers.primary_address(session, event.seller_id)
    composition = in_language(
        compose_appeal_without_case(event, settings, seller_address=address or NO_ADDRESS),
        await sellers.language(session, event.seller_id),
    )
    return await _queue(session, composition, settings=settings, now=now)


async def handle_fraud_alert(
    session: AsyncSession,
    *,
    event: FraudAlertRaised,
    settings: NotificationsSettings,
    now: datetime,
) -> list[UUID]:
    return await _queue(session, compose_fraud_alert(event, settings), settings=settings, now=now)


async def handle_task_event(
    session: AsyncSession,
    *,
    event: CaseTaskEventBase,
    settings: NotificationsSettings,
    now: datetime,
) -> list[UUID]:
    return await _queue(session, compose_task_event(event, settings), settings=settings, now=now)


async def handle_partner_statement(
    session: AsyncSession,
    *,
    event: PartnerStatementIssued,
    settings: NotificationsSettings,
    now: datetime,
) -> list[UUID]:
    composition = compose_partner_statement(event, settings)
    if not composition.drafts:
        log.warning(
            "partner statement not emailed: no finance contact configured for the partner",
            extra={"partner_id": event.partner_id, "month": event.month},
        )
    return await _queue(session, composition, settings=settings, now=now)


async def handle_seller_feedback(
    session: AsyncSession,
    *,
    event: SellerFeedbackReceived,
    settings: NotificationsSettings,
    now: datetime,
    opener: ContactOpener,
) -> list[UUID]:
    address = open_contact(
        opener, sealed=event.seller_contact, legacy=event.seller_email, ref=event.feedback_id
    ) or await sellers.primary_address(session, event.seller_id)
    composition = in_language(
        compose_feedback(event, settings, seller_address=address),
        await sellers.language(session, event.seller_id),
    )
    if composition.drafts and not await sellers.wants(session, event.seller_id, OUTREACH):
        return []  # the seller asked not to be contacted after its ratings
    return await _queue(session, composition, settings=settings, now=now)


async def resend(session: AsyncSession, *, original: Message, now: datetime) -> Message:
    """A new message with the original's content, linked to it. Every call is a new resend: a
    retried request is recognised by its Idempotency-Key (shared/idempotency.py)."""
    dedup_key = f"resend:{original.message_id}:{uuid4()}"
    message = Message(
        message_id=uuid4(),
        dedup_key=dedup_key,
        template=original.template,
        audience=original.audience,
        essential=True,  # an agent asked for it: never deferred by the throttle
        case_id=original.case_id,
        case_version=original.case_version,
        return_id=original.return_id,
        seller_id=original.seller_id,
        subject_key=original.subject_key,
        recipient=original.recipient,
        recipient_hash=original.recipient_hash,
        subject=original.subject,
        body_text=original.body_text,
        body_html=original.body_html,
        attachments=original.attachments,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        resend_of=original.message_id,
        created_at=now,
        traceparent=current_traceparent(),
    )
    session.add(message)
    await session.flush()
    return message
