"""Reconciliation's domain counters move only when the transaction that caused them commits, by
the sum of what it counted (a consumer batch counts each label set once at commit)."""

from __future__ import annotations

from typing import Any, cast

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.reconciliation import metrics


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _as_async(session: Session) -> AsyncSession:
    # The metrics only reach the session's unit of work, which a sync session has as well.
    return cast(AsyncSession, cast(Any, session))


def test_counters_move_by_the_committed_sums() -> None:
    closed = _value("disputedesk_cases_total", state="CLOSED")
    decided = _value("disputedesk_decisions_total", rule_id="L1", liable_party="PARTNER")
    none_party = _value("disputedesk_decisions_total", rule_id="E4", liable_party="NONE")
    paid = _value("disputedesk_payout_paise_total")
    session = Session()
    with session.begin():
        s = _as_async(session)
        for _ in range(3):
            metrics.case_entered(s, "CLOSED")
            metrics.decision_made(s, "L1", "PARTNER")
            metrics.paid_out(s, 125_000)
        metrics.decision_made(s, "E4", None)
        metrics.paid_out(s, 0)
        # Nothing moves before the commit.
        assert _value("disputedesk_cases_total", state="CLOSED") == closed
    assert _value("disputedesk_cases_total", state="CLOSED") == closed + 3
    assert _value("disputedesk_decisions_total", rule_id="L1", liable_party="PARTNER") == (
        decided + 3
    )
    assert _value("disputedesk_decisions_total", rule_id="E4", liable_party="NONE") == (
        none_party + 1
    )
    assert _value("disputedesk_payout_paise_total") == paid + 375_000


def test_a_rolled_back_transaction_counts_nothing_and_leaves_nothing_behind() -> None:
    closed = _value("disputedesk_cases_total", state="CLOSED")
    session = Session()
    session.begin()
    metrics.case_entered(_as_async(session), "CLOSED")
    session.rollback()
    with session.begin():
        pass  # a later commit of the same session does not apply the rolled-back count
    assert _value("disputedesk_cases_total", state="CLOSED") == closed
