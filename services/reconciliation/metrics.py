"""Reconciliation's domain metrics. Increments are applied only when the transaction that
caused them commits, so a retried batch never counts twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
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


@dataclass(slots=True)
class _PendingUpdates:
    """Metric updates of a transaction: counted once it commits, forgotten if it rolls back."""

    updates: list[Callable[[], Any]] = field(default_factory=list)


def after_commit(session: AsyncSession, update: Callable[[], Any]) -> None:
    unit_of(session).get(_PendingUpdates).updates.append(update)


@event.listens_for(Session, "after_commit")
def _apply(session: Session) -> None:
    pending = unit_of(session).pop(_PendingUpdates)
    for update in pending.updates if pending else ():
        update()


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    unit_of(session).pop(_PendingUpdates)


def case_entered(session: AsyncSession, state: str) -> None:
    after_commit(session, lambda: CASES.labels(state).inc())


def decision_made(session: AsyncSession, rule_id: str, liable_party: str | None) -> None:
    after_commit(session, lambda: DECISIONS.labels(rule_id, liable_party or "NONE").inc())


def paid_out(session: AsyncSession, paise: int) -> None:
    if paise > 0:
        after_commit(session, lambda: PAYOUT.inc(paise))


def sla_breached(session: AsyncSession) -> None:
    after_commit(session, SLA_BREACHED.inc)


def fact_refused(session: AsyncSession, kind: str, reason: str) -> None:
    after_commit(session, lambda: REFUSED_FACTS.labels(kind, reason).inc())
