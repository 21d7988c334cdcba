"""An inbound email, from raw MIME to what it changes: a seller's reply with a valid signed
address goes on its case's timeline and its attachments become evidence (the same
`EvidenceAdded` the seller portal produces, so an AWAITING_EVIDENCE case resumes the same way);
a reply without one waits in triage with a guess; machines' mail changes nothing, except that a
delivery report of our own mail marks the address as failing in the directory."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications import reply_tokens as tokens
from services.notifications.addresses import address_hash
from services.notifications.messages import repository as messages
from services.notifications.metrics import INBOUND, SELLER_ADDRESS_FAILING
from services.notifications.models import InboundAttachment, InboundEmail, Outbox
from services.notifications.replies import attachments as checks
from services.notifications.replies import repository
from services.notifications.replies.parsing import InboundEmail as Parsed
from services.notifications.replies.parsing import parse
from services.notifications.settings import NotificationsSettings
from shared.events import (
    EvidenceAdded,
    EvidenceItem,
    EvidenceKind,
    ReplyAttachment,
    SellerRepliesRead,
    SellerReplyReceived,
)
from shared.outbox import enqueue

log = logging.getLogger(__name__)
SOURCE = "disputedesk/notifications"
TEXT_LIMIT = 5000
# Confidence of a triage guess: what the desk is shown next to it, never acted on alone.
BOTH_MATCH = 0.9  # the case number is in the mail and the sender is that case's seller
CASE_ONLY = 0.5  # a case number, from a sender we do not know
SENDER_ONLY = 0.3  # a known seller, no case number: its latest case
MISMATCH = 0.1  # a case number of another seller's case


@dataclass(frozen=True, slots=True)
class Guess:
    case_id: str | None
    confidence: float
    reasons: list[str]


def _kind_of(content_type: str) -> EvidenceKind:
    if content_type.startswith("video/"):
        return EvidenceKind.UNBOXING_VIDEO
    if content_type.startswith("image/"):
        return EvidenceKind.PHOTO
    if content_type == "application/pdf":
        return EvidenceKind.INVOICE
    return EvidenceKind.OTHER


async def _guess(
    session: AsyncSession, parsed: Parsed, sender_hash: str, token_case: str | None
) -> Guess:
    senders = await repository.sellers_writing_from(
        session, address=parsed.sender, address_hash=sender_hash
    )
    numbers = ([token_case] if token_case else []) + parsed.case_numbers()
    for number in dict.fromkeys(numbers):
        ref = await repository.case_ref(session, number)
        if ref is None:
            continue
        if ref.seller_id in senders:
            return Guess(number, BOTH_MATCH, ["case number", "sender is the case's seller"])
        if senders:
            return Guess(number, MISMATCH, ["case number", "sender is another seller"])
        return Guess(number, CASE_ONLY, ["case number", "sender unknown"])
    if len(senders) == 1:
        latest = await repository.latest_case_of(session, senders[0])
        if latest is not None:
            return Guess(latest, SENDER_ONLY, ["sender is a known seller", "its latest case"])
    return Guess(None, 0.0, ["no case number", "sender unknown" if not senders else "sender"])


async def receive(
    session: AsyncSession, *, raw: bytes, now: datetime, settings: NotificationsSettings
) -> InboundEmail:
    """Record one inbound email (once per Message-ID) and act on it."""
    parsed = parse(raw)
    dedup_key = parsed.message_id[:300] or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    existing = await repository.by_dedup(session, dedup_key)
    if existing is not None:
        return existing
    row = InboundEmail(
        reply_id=uuid4(),
        dedup_key=dedup_key,
        received_at=now,
        kind=parsed.auto or "reply",
        status="ignored",
        token="absent",
        confidence=0.0,
        match_reasons=[],
        sender_hash=address_hash(parsed.sender, settings.address_hash_key) if parsed.sender else "",
        subject=parsed.subject[:300],
        body=parsed.text[:TEXT_LIMIT],
        attachments=[],
    )
    if parsed.auto is not None:
        # Never answered, never on a case: answering a machine is how mail loops start.
        if parsed.auto == "bounce":
            await _bounced(session, parsed, now=now)
        repository.add(session, row)
        INBOUND.labels(parsed.auto).inc()
        return row

    found = tokens.find_token(parsed.recipients, settings.reply_domain)
    ref = None
    if isinstance(found, tokens.Token):
        candidate = await repository.case_ref(session, found.case_id)
        if candidate is not None and tokens.verify(
            found, candidate.seller_id, settings.reply_token_key
        ):
            ref = candidate
    row.token = "valid" if ref else ("absent" if found is None else "invalid")
    checked = [
        checks.check(
            a.filename,
            a.content_type,
            a.data,
            allowed=settings.attachment_types,
            max_bytes=settings.attachment_max_bytes,
        )
        for a in parsed.attachments
    ]
    row.attachments = [_attachment_out(c).model_dump(mode="json") for c in checked]
    if ref is None:
        token_case = found.case_id if isinstance(found, tokens.Token) else None
        guess = await _guess(session, parsed, row.sender_hash, token_case)
        row.status = "triage"
        row.candidate_case_id = guess.case_id
        row.confidence = guess.confidence
        row.match_reasons = (["reply token invalid"] if row.token == "invalid" else []) + (
            guess.reasons
        )
        repository.add(session, row)
        INBOUND.labels(f"triage_token_{row.token}").inc()
        log.info(
            "reply without a valid token sent to triage",
            extra={"reply_id": str(row.reply_id), "token": row.token},
        )
        return row

    row.status = "attached"
    row.case_id, row.seller_id, row.return_id = ref.case_id, ref.seller_id, ref.return_id
    repository.add(session, row)
    await session.flush()
    evidence = []
    for attachment, check in zip(parsed.attachments, checked, strict=True):
        if not check.accepted:
            continue
        stored = InboundAttachment(
            attachment_id=uuid4(),
            reply_id=row.reply_id,
            case_id=ref.case_id,
            filename=check.filename,
            content_type=check.content_type,
            size=check.size,
            sha256=check.sha256,
            perceptual_hash=check.perceptual_hash,
            content=attachment.data,
        )
        repository.add(session, stored)
        evidence.append(
            EvidenceItem(
                kind=_kind_of(check.content_type),
                uri=f"{settings.attachment_base_url.rstrip('/')}/{stored.attachment_id}",
                sha256=check.sha256,
                captured_at=now,
                perceptual_hash=check.perceptual_hash,
            )
        )
    return_id = ref.return_id or ref.case_id
    weight = parsed.stated_weight_g()
    becomes_evidence = bool(evidence or weight is not None) and bool(ref.return_id)
    enqueue(
        session,
        Outbox,
        SellerReplyReceived(
            reply_id=row.reply_id,
            case_id=ref.case_id,
            return_id=return_id,
            seller_id=ref.seller_id,
            text=row.body,
            attachments=[_attachment_out(c) for c in checked],
            received_at=now,
            evidence_added=becomes_evidence,
        ),
        source=SOURCE,
    )
    if becomes_evidence and ref.return_id:
        enqueue(
            session,
            Outbox,
            EvidenceAdded(
                # One filing of evidence per reply; no escalation of the portal's behind it.
                escalation_id=f"REPLY-{row.reply_id.hex[:20].upper()}",
                return_id=ref.return_id,
                seller_id=ref.seller_id,
                evidence=evidence,
                received_weight_g=weight,
                added_at=now,
            ),
            source=SOURCE,
        )
    INBOUND.labels("attached").inc()
    return row


def _attachment_out(check: checks.Checked) -> ReplyAttachment:
    return ReplyAttachment(
        filename=check.filename,
        content_type=check.content_type[:127],
        size=check.size,
        sha256=check.sha256,
        perceptual_hash=check.perceptual_hash,
        accepted=check.accepted,
        refused_because=check.refused_because,
    )


async def _bounced(session: AsyncSession, parsed: Parsed, *, now: datetime) -> None:
    """A delivery report naming our own message: its recipient fails, in the directory."""
    for message_id in parsed.bounced_message_ids:
        message = await messages.get(session, UUID(message_id))
        if message is None or message.seller_id is None or not message.recipient:
            continue
        if await repository.mark_failing(
            session, seller_id=message.seller_id, address=message.recipient
        ):
            SELLER_ADDRESS_FAILING.inc()
            log.warning(
                "a delivery report marked a seller's directory address as failing",
                extra={"seller_id": message.seller_id, "message_id": message_id},
            )


async def mark_read(session: AsyncSession, *, case_id: str, by: str, now: datetime) -> int:
    """Mark the case's replies read and tell reconciliation, whose queue filters on cases
    with unread replies (`SellerRepliesRead`, only when something was unread)."""
    read = await repository.mark_read(session, case_id=case_id, by=by, now=now)
    if read:
        enqueue(
            session,
            Outbox,
            SellerRepliesRead(
                case_id=case_id,
                # The reply event's key, so both land on one partition in order.
                return_id=next((r.return_id for r in read if r.return_id), case_id),
                replies_read=len(read),
                read_through=max(r.received_at for r in read),
                read_by=by,
                read_at=now,
            ),
            source=SOURCE,
        )
    return len(read)
