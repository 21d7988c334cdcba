"""Intake's tables: the raw request archive, the partner registry, canonical records, outbox."""

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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.idempotency import IdempotencyKeyMixin
from shared.outbox import OutboxMixin
from shared.rate_limit import RateLimitBucketMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class RateLimitBucket(RateLimitBucketMixin, Base):
    """Shared request budgets of callers, failing addresses (and partners): all replicas."""


class IdempotencyKey(IdempotencyKeyMixin, Base):
    pass


class Partner(Base):
    """A logistics partner and how it authenticates. A new partner is an adapter plus a row."""

    __tablename__ = "partners"
    # One partner per id in any letter case: two registrations racing (`FastLane`, `fastlane`)
    # both passed the registry's look-first check.
    __table_args__ = (
        Index("partners_partner_id_folded_key", func.lower(text("partner_id")), unique=True),
    )

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    scheme: Mapped[str] = mapped_column(
        String(40)
    )  # adapter name: swiftship | rapidroute | desipost
    liability_cap: Mapped[int] = mapped_column(BigInteger)  # paise per shipment
    rate_limit_per_s: Mapped[int] = mapped_column(Integer, default=50)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartnerSecret(Base):
    """One of a partner's credentials. Several may be active at once while a secret rotates.

    HMAC schemes need the secret itself: it is kept encrypted (`secret_encrypted`, see
    shared/secretbox.py; never the plaintext). A plain API key is kept only as a hash
    (`secret_hash`). A secret past its `not_after` plus a grace period is deleted.
    """

    __tablename__ = "partner_secrets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.partner_id"), index=True)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    not_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RawRequest(Base):
    """Every webhook request exactly as received, with what intake made of it."""

    __tablename__ = "raw_requests"
    # One archived copy per partner and request identity (`request_key`): a partner's retries
    # of a request that carried unmapped, held, foreign or unreadable scans are the same
    # request, archived once for replay, not once per delivery. The common request (every scan
    # mapped and owned, `partners/batching.py`) is archived without a key.
    __table_args__ = (
        Index(
            "uq_raw_requests_partner_request_key",
            "partner_id",
            "request_key",
            unique=True,
            postgresql_where=text("request_key IS NOT NULL"),
        ),
    )

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # accepted | duplicate | unmapped | partially_unmapped | held | partially_held
    # | foreign_shipment | partially_foreign | invalid
    verdict: Mapped[str] = mapped_column(String(40))
    events_emitted: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Hex SHA-256 of the partner's own request id (swiftship's `webhook-id`; empty for a partner
    # without one), a NUL byte and the body: `partners.service.request_key`.
    request_key: Mapped[str | None] = mapped_column(String(64))


class StatusMapping(Base):
    """A partner status string mapped to a canonical type by an admin, beside the built-in map."""

    __tablename__ = "partner_status_mappings"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.partner_id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UnmappedScan(Base):
    """A partner scan whose status had no mapping when it arrived, and the request it came in.

    One row per partner event (redeliveries do not add rows); replay re-parses `raw_ref`.
    """

    __tablename__ = "unmapped_scans"
    __table_args__ = (UniqueConstraint("partner_id", "partner_event_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    partner_event_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(100))
    raw_ref: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ShipmentEventRecord(Base):
    """Canonical partner events already emitted; the unique key is the redelivery guard."""

    __tablename__ = "shipment_events"
    __table_args__ = (UniqueConstraint("partner_id", "partner_event_id"),)

    event_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    partner_event_id: Mapped[str] = mapped_column(String(200))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raw_ref: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ReturnRecord(Base):
    """A return as the marketplace fed it, bound to the one seller who may escalate it and the
    one partner (and AWB) that may report scans on it."""

    __tablename__ = "returns"

    return_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(64), index=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    awb: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class RefundRecord(Base):
    """A refund the marketplace issued to the buyer of a return."""

    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ReturnEventLog(Base):
    """Canonical events intake recorded about a return, except partner scans (which
    `shipment_events` holds already); together they are the return's history as read back."""

    __tablename__ = "return_events"
    __table_args__ = (Index("ix_return_events_return_time", "return_id", "occurred_at"),)

    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(64))
    ce_type: Mapped[str] = mapped_column(String(200))
    # The time the fact happened (the partner's scan time, the filing time), not arrival time.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)


class SellerFeedback(Base):
    __tablename__ = "seller_feedback"

    feedback_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(64), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    return_id: Mapped[str | None] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Escalation(Base):
    """A seller's escalation. `state`: `filed` (its event emitted), `pending_return` (held until
    the feed names the return's seller; nothing emitted) or `refused` (`refused_reason` says why;
    nothing emitted, ever)."""

    __tablename__ = "escalations"
    __table_args__ = (
        # The hold-window sweep reads only the pending few, oldest first.
        Index(
            "ix_escalations_pending_filed_at",
            "filed_at",
            postgresql_where=text("state = 'pending_return'"),
        ),
    )

    escalation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    seller_id: Mapped[str] = mapped_column(String(64), index=True)
    claim_type: Mapped[str] = mapped_column(String(20))
    claimed_amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    received_weight_g: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))
    filed_by: Mapped[str] = mapped_column(String(200))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The seller's reply address for this case, sealed for notifications (shared/pii.py): intake
    # can seal but not open it. A held escalation's event is built from this row when it binds.
    seller_contact: Mapped[str | None] = mapped_column(Text)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), server_default="filed")
    refused_reason: Mapped[str | None] = mapped_column(String(40))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HeldScan(Base):
    """A partner scan whose return the feed had not announced when it arrived, kept until the
    feed names the return's partner and AWB (then emitted or refused) or the hold window ends
    (refused `unknown_shipment`). One row per partner event: redeliveries are not held twice.

    `payload` is the canonical event as built on arrival, so binding emits exactly that event.
    """

    __tablename__ = "held_scans"
    __table_args__ = (
        UniqueConstraint("partner_id", "partner_event_id"),
        Index("ix_held_scans_held_at", "held_at", postgresql_where=text("state = 'held'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    partner_event_id: Mapped[str] = mapped_column(String(200))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    awb: Mapped[str] = mapped_column(String(64))
    raw_ref: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # held | emitted | refused
    state: Mapped[str] = mapped_column(String(20), server_default="held")
    refused_reason: Mapped[str | None] = mapped_column(String(40))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
