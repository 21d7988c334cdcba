"""Notifications' tables: outgoing messages and their delivery attempts, the suppression list,
daily education digests, plus the shared outbox and inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.idempotency import IdempotencyKeyMixin
from shared.inbox import InboxMixin
from shared.outbox import OutboxMixin
from shared.rate_limit import RateLimitBucketMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class IdempotencyKey(IdempotencyKeyMixin, Base):
    """Mutating requests retried with the same `Idempotency-Key` answer the stored response."""


class RateLimitBucket(RateLimitBucketMixin, Base):
    """Shared request budgets of callers, failing addresses (and partners): all replicas."""


class Inbox(InboxMixin, Base):
    pass


class Message(Base):
    """One email to send. `dedup_key` = (case, template, case version): one message each.

    Status: pending (waiting for `next_attempt_at`) → sending (claimed by a dispatcher until
    `lease_until`) → sent | failed | suppressed. A `sending` row whose lease ran out belongs to
    a dispatcher that died mid-send, and is claimed again. A seller message with no address
    (none on the case, none in the seller directory) is `held` with an empty recipient until
    the directory learns one, then becomes pending: the seller is told once, late.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_messages_leased", "lease_until", postgresql_where=text("status = 'sending'")),
        Index("ix_messages_seller_day", "seller_id", "next_attempt_at"),
        Index("ix_messages_held_seller", "seller_id", postgresql_where=text("status = 'held'")),
    )

    message_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    template: Mapped[str] = mapped_column(String(60))
    audience: Mapped[str] = mapped_column(String(20), server_default="seller")  # seller|management
    essential: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    case_version: Mapped[int | None] = mapped_column(Integer)
    return_id: Mapped[str | None] = mapped_column(String(64))
    # Looked up through ix_messages_seller_day (seller_id leads it).
    seller_id: Mapped[str | None] = mapped_column(String(64))
    subject_key: Mapped[str | None] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254))  # PII: never logged
    recipient_hash: Mapped[str] = mapped_column(String(64), server_default="")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # [{"filename", "content_type", "content"}], content as text (HTML reports, CSV statements).
    attachments: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # W3C trace context of the event that queued the message: the SMTP send continues its trace.
    traceparent: Mapped[str | None] = mapped_column(String(64))
    resend_of: Mapped[UUID | None] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("messages.message_id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An evidence request that answers evidence the seller sent (what reached us, what is still
    # missing), marked when composed: the spacing between answers counts only these.
    answers_evidence: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A held message only: when what it says stops being true (a decision's appeal-by, an
    # evidence request's reply-by), and the words it goes out with after that (`late`:
    # subject, text, html; None: it is not sent then). Read when a directory update releases it.
    true_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[dict[str, str] | None] = mapped_column(JSONB)


class DeliveryAttempt(Base):
    """Every attempt to hand a message to the channel, with the server's answer."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_id: Mapped[UUID] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("messages.message_id"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # sent | retried | failed | suppressed
    code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)  # scrubbed of addresses
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Suppression(Base):
    """Addresses we must not write to, kept only as a keyed hash (the address is PII)."""

    __tablename__ = "suppressions"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))  # hard_bounce | manual | complaint
    detail: Mapped[str | None] = mapped_column(Text)
    source_message_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Digest(Base):
    """A seller's daily education digest: items gather until `flush_at`, then one email."""

    __tablename__ = "digests"
    __table_args__ = (
        # At most one open digest per seller: new items join it until it is flushed.
        Index(
            "ux_digests_open_per_seller",
            "seller_id",
            unique=True,
            postgresql_where=text("flushed_at IS NULL"),
        ),
        Index("ix_digests_due", "flush_at", postgresql_where=text("flushed_at IS NULL")),
    )

    digest_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))  # PII: never logged
    flush_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    flushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DigestItem(Base):
    """One lesson for a seller (e.g. after a rejection an unboxing video would have avoided)."""

    __tablename__ = "digest_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    digest_id: Mapped[UUID] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("digests.digest_id"), index=True
    )
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    case_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(60))  # e.g. EVIDENCE_NOT_PROVIDED
    context: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SellerProfile(Base):
    """The seller directory: where and how the desk writes to a seller. Addresses rest here,
    in notifications' database only (the one service that may read them); every other
    service knows the seller by `seller_id`."""

    __tablename__ = "seller_profiles"

    seller_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    emails: Mapped[list[str]] = mapped_column(JSONB)  # PII: never logged; first one is primary
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), server_default="en")
    phone: Mapped[str | None] = mapped_column(String(20))  # PII: never logged
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Addresses a delivery report said do not take our mail (PII: never logged). Kept apart
    # from `emails`, which only the marketplace changes; a PUT that drops an address clears it.
    failing_emails: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class SellerProfileChange(Base):
    """One row per directory version: who changed which fields, when, and the profile as it
    then stood (so any earlier version can be read back)."""

    __tablename__ = "seller_profile_changes"

    seller_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("seller_profiles.seller_id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_fields: Mapped[list[str]] = mapped_column(JSONB)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)  # PII: never logged


class CaseCall(Base):
    """A call the desk logged with the seller on a case, kept until the seller's next email
    about the case carries its summary (when the seller asked for call summaries)."""

    __tablename__ = "case_calls"
    __table_args__ = (
        Index("ix_case_calls_untold", "case_id", postgresql_where=text("told_in IS NULL")),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The dedup key of the message whose summary carried the call (None: not told yet).
    told_in: Mapped[str | None] = mapped_column(String(300))


class InboundEmail(Base):
    """One email that came in: a seller's reply tied to its case by the signed reply address
    (`attached`), one the desk must place by hand (`triage`, with the best guess and its
    confidence), or one a machine wrote (`ignored`: auto-replies and delivery reports)."""

    __tablename__ = "inbound_emails"
    __table_args__ = (
        Index("ix_inbound_case", "case_id", "received_at"),
        Index("ix_inbound_unread", "case_id", postgresql_where=text("read_at IS NULL")),
    )

    reply_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)  # Message-ID or raw sha256
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(20))  # reply | auto_reply | bounce
    status: Mapped[str] = mapped_column(String(20))  # attached | triage | ignored
    token: Mapped[str] = mapped_column(String(20))  # valid | invalid | absent
    case_id: Mapped[str | None] = mapped_column(String(64))
    seller_id: Mapped[str | None] = mapped_column(String(64))
    return_id: Mapped[str | None] = mapped_column(String(64))
    candidate_case_id: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(server_default=text("0"))
    match_reasons: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    sender_hash: Mapped[str] = mapped_column(String(64))  # the sender only as a keyed hash
    subject: Mapped[str] = mapped_column(String(300))
    # The seller's new words, quoted history removed (`text` would shadow sqlalchemy's).
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_by: Mapped[str | None] = mapped_column(String(200))


class InboundAttachment(Base):
    """An accepted attachment's bytes: the evidence URI points here."""

    __tablename__ = "inbound_attachments"

    attachment_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    reply_id: Mapped[UUID] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("inbound_emails.reply_id"), index=True
    )
    case_id: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    perceptual_hash: Mapped[str | None] = mapped_column(String(16))
    content: Mapped[bytes] = mapped_column(LargeBinary)
