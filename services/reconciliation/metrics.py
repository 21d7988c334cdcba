"""Reconciliation's domain metrics. Increments are applied only when the transaction that
caused them commits, so a retried batch never counts twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.unit_of_work import unit_of

CASES = Counter("disputedesk_cases_total", "Cases entering a state.", ["state"])
DECISIONS = Counter(
    "disputedesk_decisions_total",
    "Decisions and rejections, by the rule that made them and the party held liable.",
    ["rule_id", "liable_party"],
)
PAYOUT = Counter("disputedesk_payout_paise_total", "Paise paid out to sellers on settlement.")
SLA_BREACHED = Counter(
    "disputedesk_cases_sla_breached_total", "Cases whose review SLA ran out (escalated)."
)

REFUSED_FACTS = Counter(
    "disputedesk_reconciliation_refused_facts",
    "Facts refused because they do not belong to their return: a scan from a partner other "
    "than the return's, an escalation, evidence or appeal from a seller other than its.",
    # kind: scan | escalation | evidence | appeal; reason: partner_mismatch | seller_mismatch
    ["kind", "reason"],
)

# Cross-team tasks per team (six fixed values) and partner notice deliveries per partner.
TASKS_OPENED = Counter("disputedesk_tasks_opened_total", "Cross-team tasks opened.", ["team"])
TASKS_CLOSED = Counter(
    "disputedesk_tasks_closed_total", "Cross-team tasks done or cancelled.", ["team", "status"]
)
TASKS_OVERDUE = Counter(
    "disputedesk_tasks_overdue_total", "Tasks that passed their due time (alerted once).", ["team"]
)
TASK_HOURS_TO_CLOSE = Histogram(
    "disputedesk_task_hours_to_close",
    "Hours from a task's opening to its completion.",
    ["team"],
    buckets=(1, 4, 8, 24, 48, 72, 168, 336),
)
# A parcel paid as lost or never delivered that then reached the seller (the decision's rule:
# L1, L3 or L5), counted once per case when the desk is asked to recover or confirm the money.
DELIVERED_AFTER_LOSS_PAYOUT = Counter(
    "disputedesk_delivered_after_loss_payout_total",
    "Cases paid as a lost or undelivered parcel whose parcel was then delivered to the seller.",
    ["rule"],
)
NOTICE_ATTEMPTS = Counter(
    "disputedesk_partner_notice_attempts_total",
    "Debit notice deliveries to partners, by result (delivered, retried, dead, parked).",
    ["partner_id", "outcome"],
)


@dataclass(slots=True)
class _PendingUpdates:
    """Metric updates of a transaction: counted once it commits, forgotten if it rolls back.
    Counter increments are summed per counter and label values (`counts`), so a consumer batch
    of 500 decisions looks up each label set once at commit instead of four times a decision
    (a `labels()` lookup and its lock cost about as much as the decision's whole metrics)."""

    updates: list[Callable[[], Any]] = field(default_factory=list)
    counts: dict[tuple[Counter, tuple[str, ...]], float] = field(default_factory=dict)


def after_commit(session: AsyncSession, update: Callable[[], Any]) -> None:
    unit_of(session).get(_PendingUpdates).updates.append(update)


def _count(session: AsyncSession, counter: Counter, *labels: str, amount: float = 1) -> None:
    """`counter` (with `labels`, if it has labels) increased by `amount` once the transaction
    commits."""
    counts = unit_of(session).get(_PendingUpdates).counts
    key = (counter, labels)
    counts[key] = counts.get(key, 0) + amount


@event.listens_for(Session, "after_commit")
def _apply(session: Session) -> None:
    pending = unit_of(session).pop(_PendingUpdates)
    if pending is None:
        return
    for update in pending.updates:
        update()
    for (counter, labels), amount in pending.counts.items():
        (counter.labels(*labels) if labels else counter).inc(amount)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    unit_of(session).pop(_PendingUpdates)


def case_entered(session: AsyncSession, state: str) -> None:
    _count(session, CASES, state)


def decision_made(session: AsyncSession, rule_id: str, liable_party: str | None) -> None:
    _count(session, DECISIONS, rule_id, liable_party or "NONE")


def paid_out(session: AsyncSession, paise: int) -> None:
    if paise > 0:
        _count(session, PAYOUT, amount=paise)


def sla_breached(session: AsyncSession) -> None:
    _count(session, SLA_BREACHED)


def fact_refused(session: AsyncSession, kind: str, reason: str) -> None:
    _count(session, REFUSED_FACTS, kind, reason)


def task_opened(session: AsyncSession, team: str) -> None:
    _count(session, TASKS_OPENED, team)


def delivered_after_loss_payout(session: AsyncSession, rule_id: str) -> None:
    _count(session, DELIVERED_AFTER_LOSS_PAYOUT, rule_id)


def task_closed(session: AsyncSession, team: str, status: str, hours: float) -> None:
    def update() -> None:
        TASKS_CLOSED.labels(team, status).inc()
        if status == "DONE":
            TASK_HOURS_TO_CLOSE.labels(team).observe(hours)

    after_commit(session, update)


def task_overdue(session: AsyncSession, team: str) -> None:
    _count(session, TASKS_OVERDUE, team)


def notice_attempt(session: AsyncSession, partner_id: str, outcome: str) -> None:
    _count(session, NOTICE_ATTEMPTS, partner_id, outcome)
