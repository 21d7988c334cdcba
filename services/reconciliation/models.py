"""Reconciliation's tables: the facts it has learnt per return, cases with their timelines and
timers, the policy versions, the ledger, plus the shared outbox and inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.idempotency import IdempotencyKeyMixin
from shared.inbox import InboxMixin
from shared.outbox import OutboxMixin
from shared.pii import MAX_TOKEN_LENGTH
from shared.rate_limit import RateLimitBucketMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    # Kept as the text the process encoded (`json`, not `jsonb`): nothing reads inside a
    # reconciliation event's row, the relay sends `payload::text` as the message. As `jsonb`
    # each case event (two a decision, 2-2.5 KB) was parsed into the binary form on insert
    # and printed back to text when published; `json` only checks it and gives it back.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RateLimitBucket(RateLimitBucketMixin, Base):
    """Shared request budgets of callers, failing addresses (and partners): all replicas."""


class Inbox(InboxMixin, Base):
    pass


class IdempotencyKey(IdempotencyKeyMixin, Base):
    """Desk actions retried with the same `Idempotency-Key` answer the stored response."""


# ---------------------------------------------------------------------------------------------
# Policy versions
# ---------------------------------------------------------------------------------------------


class PolicyVersion(Base):
    """A complete SOP definition; decisions name the version they were taken under."""

    __tablename__ = "policies"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # ACTIVE | DRAFT | RETIRED
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    adopted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    based_on: Mapped[str | None] = mapped_column(String(40))
    # In force for decisions taken at or after this instant; NULL: since the beginning.
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    proposed_by: Mapped[str | None] = mapped_column(String(120))
    proposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(120))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The what-if computed when the draft was proposed: what the approver reads first.
    what_if: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class PolicyChange(Base):
    """One step in a policy version's life, with its reason and diff; append-only (a trigger)."""

    __tablename__ = "policy_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), ForeignKey("policies.version"))
    action: Mapped[str] = mapped_column(String(20))  # DRAFTED | PROPOSED | APPROVED | RETIRED
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------------------------------------
# Facts per return (copied from the events; this service never reads intake's database)
# ---------------------------------------------------------------------------------------------


class ReturnRecord(Base):
    __tablename__ = "returns"

    return_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    order_id: Mapped[str] = mapped_column(String(64))
    seller_id: Mapped[str] = mapped_column(String(64))
    buyer_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    item_value: Mapped[int] = mapped_column(BigInteger)
    qc_required: Mapped[bool] = mapped_column(Boolean)
    partner_id: Mapped[str] = mapped_column(String(64))
    awb: Mapped[str] = mapped_column(String(64))
    initiated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ShipmentEventRecord(Base):
    __tablename__ = "shipment_events"

    event_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    weight_g: Mapped[int | None] = mapped_column(Integer)
    pod_otp_verified: Mapped[bool | None] = mapped_column(Boolean)
    hub_id: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    qc_failure_reason: Mapped[str | None] = mapped_column(Text)


class EscalationRecord(Base):
    __tablename__ = "escalations"

    escalation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), unique=True)
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    seller_id: Mapped[str] = mapped_column(String(64))
    claim_type: Mapped[str] = mapped_column(String(20))
    claimed_amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    received_weight_g: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    filed_by: Mapped[str] = mapped_column(String(200))
    # Sealed for notifications (shared/pii.py); reconciliation cannot read it, only pass it on.
    seller_contact: Mapped[str | None] = mapped_column(String(MAX_TOKEN_LENGTH))
    # PRIMARY (the case's claim), MERGED (E2), DUPLICATE (E2b), REFUSED (not the return's seller),
    # PREMATURE (a refiling after E3b that E3b would close again: the case stays closed)
    disposition: Mapped[str | None] = mapped_column(String(20))
    case_id: Mapped[str | None] = mapped_column(String(64))


class EvidenceAddition(Base):
    __tablename__ = "evidence_additions"

    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    escalation_id: Mapped[str] = mapped_column(String(64))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    received_weight_g: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssessmentRecord(Base):
    __tablename__ = "assessments"

    assessment_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    subject_event_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), index=True)
    subject_type: Mapped[str] = mapped_column(String(200))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    escalation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    band: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    model_version: Mapped[str] = mapped_column(String(64))
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AppealRecord(Base):
    __tablename__ = "appeals"

    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    escalation_id: Mapped[str] = mapped_column(String(64))
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    seller_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # ACCEPTED | LATE | NOTHING_TO_APPEAL | ALREADY_APPEALED | REFUSED (not the case's seller)
    # | ANSWERED_BY_RECORD (heard, then its closure undone by the partner's record)
    disposition: Mapped[str] = mapped_column(String(20))


class RefundRecord(Base):
    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(64), index=True)
    order_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------


class Case(Base):
    """One live case per return; `version` increases with every transition."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Unique among live cases (`uq_cases_live_return_id`): a claim filed before its return's
    # feed entry, on a return the feed then gave to another seller, is closed and stops
    # standing for the return (`ownership_refused_at`), so the owner's own case can open.
    return_id: Mapped[str] = mapped_column(String(64))
    ownership_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seller_id: Mapped[str] = mapped_column(String(64), index=True)
    partner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    claim_type: Mapped[str | None] = mapped_column(String(20))
    claimed_amount: Mapped[int | None] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(20))
    trigger_rule: Mapped[str | None] = mapped_column(String(10))
    trigger_ce_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    primary_escalation_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), index=True)
    waiting_for: Mapped[str | None] = mapped_column(String(40))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    # The seller's address sealed for notifications, carried on every case event; opaque here.
    seller_contact: Mapped[str | None] = mapped_column(String(MAX_TOKEN_LENGTH))
    fraud_band: Mapped[str | None] = mapped_column(String(10))
    assignee: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # E4 / desk evidence requests; `evidence_requested_by` is "system" for the SOP's own request.
    reply_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_requested_by: Mapped[str | None] = mapped_column(String(200))
    # Review SLA: seconds already spent under review, and when the current stretch began.
    sla_used_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The one pending timer of the case, mirrored here so a transition needs no timer query.
    timer_kind: Mapped[str | None] = mapped_column(String(30))
    timer_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # ESCALATED / APPEALED: the date the seller now holds for the decision, and how many such
    # dates passed undecided (each broken one spaces the next further; deadlines.py).
    decision_promised_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_promises_broken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Flags set by fired timers, read by the rules (E1, E4, E5b).
    facts_wait_over: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    fraud_wait_over: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # The decision in force, a proposal awaiting four-eyes approval, and who decided.
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    proposed_by: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    appeal_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payout: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # A closure the seller was emailed, undone by a partner's record (REOPEN_ON_RECORD): held
    # until the case's next answer to the seller, which says that closure no longer stands.
    closure_reopened: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The seller's replies as notifications reports them (SellerReplyReceived and
    # SellerRepliesRead): the oldest reply nobody at the desk has read yet (None when all
    # are read), and the newest reply seen, which tells whether a read covered every reply.
    seller_unread_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seller_last_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Blocking tasks the desk opened itself (hold kind DESK) and not yet done: a decision made
    # while any is open waits for them. Kept here so a decision needs no task query to know.
    desk_holds_open: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_cases_queue", "opened_at", "case_id"),
        Index(
            "uq_cases_live_return_id",
            "return_id",
            unique=True,
            postgresql_where=text("ownership_refused_at IS NULL"),
        ),
        # The queue's "seller replied" filter: few cases at a time, in queue order.
        Index(
            "ix_cases_seller_unread",
            "opened_at",
            "case_id",
            postgresql_where=text("seller_unread_since IS NOT NULL"),
        ),
        # The queue's assignee filter asks for one person's cases: an unassigned case (most
        # are, and every case the SOP decides alone) has no entry to find, so its insert and
        # every rewrite of its row (a state change is never HOT) skip this index.
        Index("ix_cases_assignee", "assignee", postgresql_where=text("assignee IS NOT NULL")),
    )


class TimelineEntry(Base):
    """Who did what to a case, when and why: one row per transition, note, call or email."""

    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Declared for the ORM (the unit of work inserts a new case before its rows). The database
    # checks it once per INSERT statement (migration e7b2d5f9a3c6), not with a foreign key's
    # check and case-row lock per timeline row.
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    # Kept as the text the process wrote (`json`, not `jsonb`): nothing reads inside an entry in
    # SQL but whether it carries an event (`data -> 'event'`); readers take the whole document.
    # A decision's two entries are its case events (2-2.5 KB each), which `jsonb` parsed into
    # its binary form on every insert.
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Timer(Base):
    """A durable deadline: claimed by the timer loop once due, whatever restarted in between."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index(
            "ix_timers_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
        Index(
            "uq_timers_pending_kind",
            "case_id",
            "kind",
            unique=True,
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Ledger: double entry, integer paise, append-only (enforced by triggers in the migration)
# ---------------------------------------------------------------------------------------------


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    transaction_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    # Posting order, also among transactions posted at the same instant (a reversal and its
    # replacement).
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # SETTLEMENT | REVERSAL
    reverses: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    policy_version: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerEntry(Base):
    """One line: `amount` > 0 is a debit, < 0 a credit; a transaction's lines sum to zero."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Declared for the ORM (the join, and the unit of work's insert order). The database checks
    # it once per INSERT statement, with the lines' balance (migration d1f7b3a9e6c2), not with a
    # foreign key's check and parent-row lock per line.
    transaction_id: Mapped[UUID] = mapped_column(
        ForeignKey("ledger_transactions.transaction_id"), index=True
    )
    case_id: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(120))
    account_type: Mapped[str] = mapped_column(String(40))
    counterparty_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Only here so the unit of work orders INSERTs (transaction before its entries).
    transaction: Mapped[LedgerTransaction] = relationship(lazy="raise", viewonly=False)

    # Every decision writes four lines, so a line carries only the indexes a query reads
    # (b5e9d3c7a1f8): its id, its transaction (above), and an account's lines over a period (a
    # partner statement, its opening balance, a receivable's first posting). No query reads
    # lines by case.
    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_ledger_entries_nonzero"),
        Index("ix_ledger_entries_account_posted_at", "account", "posted_at"),
    )


# ---------------------------------------------------------------------------------------------
# Partner disputes: where notices go, the notices with their delivery, the partners' contests
# ---------------------------------------------------------------------------------------------


class PartnerEndpoint(Base):
    __tablename__ = "partner_endpoints"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    scheme: Mapped[str] = mapped_column(String(30))  # shared.partner_signing.SigningScheme
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # Disabled: notices wait PARKED and are delivered once it is enabled again.
    enabled: Mapped[bool] = mapped_column(Boolean)
    finance_contact: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DebitNotice(Base):
    """What a partner is told it is debited for, and where that stands: `delivery` is the
    webhook's (PENDING | DELIVERED | PARKED | DEAD), `dispute` the money's (OPEN | CONTESTED |
    FINAL | UPHELD | REVERSED | PARTIAL | WITHDRAWN)."""

    __tablename__ = "debit_notices"

    notice_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)  # the case page lists them
    partner_id: Mapped[str] = mapped_column(String(64))
    settlement_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    rule_id: Mapped[str] = mapped_column(String(10))
    policy_version: Mapped[str] = mapped_column(String(40))
    contest_window_days: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    delivery: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute: Mapped[str] = mapped_column(String(20))
    contest_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    final_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Apart from `final_at`: a notice withdrawn after it became final keeps when it did.
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NoticeAttempt(Base):
    __tablename__ = "notice_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notice_id: Mapped[UUID] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("debit_notices.notice_id")
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    url: Mapped[str] = mapped_column(String(2000))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


class NoticeContest(Base):
    __tablename__ = "notice_contests"

    contest_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    notice_id: Mapped[UUID] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("debit_notices.notice_id"), unique=True
    )
    partner_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    filed_by: Mapped[str] = mapped_column(String(120))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # UPHELD | REVERSED | PARTIAL, or WITHDRAWN when an overturn took the debit off first.
    outcome: Mapped[str | None] = mapped_column(String(20))
    reversed_amount: Mapped[int | None] = mapped_column(BigInteger)
    ruling: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversal_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))


# ---------------------------------------------------------------------------------------------
# Cross-team tasks on a case
# ---------------------------------------------------------------------------------------------


class CaseTask(Base):
    """Something another team must do for a case; `blocks_settlement` holds the case DECIDED
    until it is done."""

    __tablename__ = "case_tasks"
    __table_args__ = (
        Index("ix_case_tasks_open_due", "due_at", postgresql_where=text("status = 'OPEN'")),
        # A team's queue in its paging order, and its prefix a team's cases (`worked_by`).
        Index("ix_case_tasks_team_due", "team", "due_at", "task_id"),
    )

    task_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    team: Mapped[str] = mapped_column(String(40))
    ask: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))  # OPEN | DONE | CANCELLED
    blocks_settlement: Mapped[bool] = mapped_column(Boolean)
    hold_kind: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TaskComment(Base):
    __tablename__ = "task_comments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    task_id: Mapped[UUID] = mapped_column(
        PgUUID(as_uuid=True), ForeignKey("case_tasks.task_id"), index=True
    )
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
