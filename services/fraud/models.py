"""Fraud's tables: features kept per entity, what the detectors need about each return, evidence
fingerprints, assessments, entity risk, watchlists, alerts and analyst labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    SmallInteger,
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


class Assessment(Base):
    __tablename__ = "assessments"

    assessment_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    subject_event_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    # 0 at the event's arrival; each re-assessment (see scoring.revisions) adds one.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    subject_type: Mapped[str] = mapped_column(String(200))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    escalation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    entities: Mapped[dict[str, Any]] = mapped_column(JSONB)
    model_version: Mapped[str] = mapped_column(String(40))
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the scored fact happened (its own timestamp), which is what the detectors reason on.
    event_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("uq_assessments_subject_revision", "subject_event_id", "revision", unique=True),
    )


class ReturnFacts(Base):
    """What fraud knows about one return, gathered from its events in any order."""

    __tablename__ = "return_facts"

    return_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Returns of one order may share evidence (its invoice) without reusing it.
    order_id: Mapped[str | None] = mapped_column(String(64))
    seller_id: Mapped[str | None] = mapped_column(String(64))
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    item_value: Mapped[int | None] = mapped_column(BigInteger)
    partner_id: Mapped[str | None] = mapped_column(String(64))
    contact_hash: Mapped[str | None] = mapped_column(String(128))
    address_hash: Mapped[str | None] = mapped_column(String(128))
    pickup_agent_id: Mapped[str | None] = mapped_column(String(64))
    pickup_weight_g: Mapped[int | None] = mapped_column(Integer)
    qc_result: Mapped[str | None] = mapped_column(String(20))
    qc_agent_id: Mapped[str | None] = mapped_column(String(64))
    qc_hub_id: Mapped[str | None] = mapped_column(String(64))
    hubs: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # The journey's scans as pilferage attributes an incident by them (`features.custody`):
    # [time, hub, weight in grams, kind] each, kind "pickup", "scan" or "end". None on a return
    # first seen before this was kept: it is counted as before, every hub named.
    custody: Mapped[list[list[Any]] | None] = mapped_column(JSONB)
    # True once the journey's end was counted with the hubs' parts of it (only, last, earlier:
    # `features.service.pilferage_counts`); None on a journey ended before they were kept, whose
    # late scans revise only the counters its end wrote.
    parts_counted: Mapped[bool | None] = mapped_column(Boolean)
    terminal: Mapped[str | None] = mapped_column(String(32))
    terminal_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_weight_g: Mapped[int | None] = mapped_column(Integer)
    incident: Mapped[bool] = mapped_column(Boolean, default=False)
    # Dear for its category when its delivery was counted (features.dear); None before.
    dear: Mapped[bool | None] = mapped_column(Boolean)
    claim_type: Mapped[str | None] = mapped_column(String(20))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_id: Mapped[str | None] = mapped_column(String(64))
    # Counted once into the pair counters, whichever of delivery and claim came first.
    pair_counted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The return went on past its pickup (picked up, QC passed, ended): a refusal at pickup
    # does not stand (`features.service.count_refusal`).
    moved_on: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The day its refusal at pickup is counted under for its buyer; None while not counted.
    refusal_day: Mapped[date | None] = mapped_column(Date)

    # An alert looks up the recent events of its entity (scoring.revisions).
    __table_args__ = (
        Index("ix_return_facts_seller_claimed", "seller_id", "claimed_at"),
        Index("ix_return_facts_buyer_claimed", "buyer_id", "claimed_at"),
        Index("ix_return_facts_qc_agent_claimed", "qc_agent_id", "claimed_at"),
        Index("ix_return_facts_qc_hub_claimed", "qc_hub_id", "claimed_at"),
        Index("ix_return_facts_agent_terminal", "pickup_agent_id", "terminal_at"),
        # The returns behind a contact or address that stands out, read by order
        # (`features.identity_orders`).
        Index("ix_return_facts_contact_hash", "contact_hash"),
        Index("ix_return_facts_address_hash", "address_hash"),
        Index(
            "ix_return_facts_hubs",
            "hubs",
            postgresql_using="gin",
            postgresql_ops={"hubs": "jsonb_path_ops"},
        ),
    )


class FeatureCount(Base):
    """A daily bucket of one metric of one entity (seller, buyer, hub, agent, category, network,
    identity hash); windows are sums over the buckets of the last days of event time."""

    __tablename__ = "feature_counts"

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class PairCount(Base):
    """Lifetime counts of a pair: seller–buyer, agent–buyer."""

    __tablename__ = "pair_counts"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    left_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    right_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_pair_counts_right", "kind", "right_id", "metric"),)


class IdentityLink(Base):
    """A buyer account seen with a contact or address hash."""

    __tablename__ = "identity_links"

    hash_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    hash_value: Mapped[str] = mapped_column(String(128), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class EvidenceFingerprintRow(Base):
    """One evidence file of one escalation. The eight bytes of the perceptual hash are indexed
    separately: near-duplicates within 7 bits always share one (see detectors.stats)."""

    __tablename__ = "evidence_fingerprints"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[int | None] = mapped_column(BigInteger)
    b0: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b1: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b2: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b3: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b4: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b5: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b6: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    b7: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    seller_id: Mapped[str] = mapped_column(String(64))
    return_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64))
    escalation_id: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EntityRisk(Base):
    __tablename__ = "entity_risk"

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EntityRiskHistory(Base):
    """A row whenever an entity's risk band changes or its score moves noticeably."""

    __tablename__ = "entity_risk_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subject_event_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))

    __table_args__ = (Index("ix_entity_risk_history_entity", "entity_type", "entity_id", "id"),)


class WatchlistEntry(Base):
    __tablename__ = "watchlist"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))  # manual | automatic
    reason: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    removed_by: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_watchlist_active",
            "entity_type",
            "entity_id",
            "source",
            unique=True,
            postgresql_where=text("active"),
        ),
    )


class Alert(Base):
    __tablename__ = "alerts"

    alert_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    pattern: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    # What the alert is about, for de-duplication: the entity, or the pair for collusion.
    subject_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(15))  # open | acknowledged | closed
    severity: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB)
    suggested_action: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    subject_event_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One open (or acknowledged) alert per pattern and subject: repeats update nothing.
        Index(
            "uq_alerts_open",
            "pattern",
            "subject_key",
            unique=True,
            postgresql_where=text("status IN ('open', 'acknowledged')"),
        ),
        Index("ix_alerts_status_raised", "status", "raised_at"),
    )


class Label(Base):
    """An analyst's verdict on an entity or an event: confirmed fraud or legitimate."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity_type: Mapped[str | None] = mapped_column(String(20))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), index=True)
    verdict: Mapped[str] = mapped_column(String(20))  # confirmed_fraud | legitimate
    note: Mapped[str] = mapped_column(Text, default="")
    labelled_by: Mapped[str] = mapped_column(String(128))
    labelled_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_labels_entity", "entity_type", "entity_id"),)
