"""A parcel paid as lost, then delivered (`cases/delivered_after_payout.py`): the case records it
in place while its decision stands, and the seller is written nothing about it."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.service import acts_on_case_event
from services.notifications.settings import NotificationsSettings
from services.reconciliation.cases.delivered_after_payout import (
    DELIVERED_AFTER_LOSS_PAYOUT,
    PAID_AS_UNDELIVERED,
)
from services.reconciliation.cases.transitions import IllegalTransition, Move, next_state
from shared.events import CaseState, CaseUpdated

AT = datetime(2026, 12, 6, 10, tzinfo=UTC)
DECIDED = SimpleNamespace(decision={"rule_id": "L1"}, decided_at=AT, proposal=None)
UNDECIDED = SimpleNamespace(decision=None, decided_at=None, proposal=None)


def test_the_rules_that_pay_an_undelivered_parcel_are_l1_l3_and_l5() -> None:
    assert set(PAID_AS_UNDELIVERED) == {"L1", "L3", "L5"}


@pytest.mark.parametrize("state", [CaseState.DECIDED, CaseState.APPEALED, CaseState.CLOSED])
def test_the_move_records_in_place_while_a_decision_stands(state: CaseState) -> None:
    assert next_state(state, Move.FLAG_DELIVERY_AFTER_PAYOUT, DECIDED) is state
    with pytest.raises(IllegalTransition):
        next_state(state, Move.FLAG_DELIVERY_AFTER_PAYOUT, UNDECIDED)


@pytest.mark.parametrize("state", [CaseState.OPEN, CaseState.UNDER_REVIEW, CaseState.REJECTED])
def test_no_undecided_or_rejected_case_takes_the_move(state: CaseState) -> None:
    with pytest.raises(IllegalTransition):
        next_state(state, Move.FLAG_DELIVERY_AFTER_PAYOUT, DECIDED)


def test_the_seller_is_written_nothing_about_it() -> None:
    settled = samples.case_settled("CASE-DLV", AT)
    fields = settled.model_dump(exclude={"type", "ledger_transaction_id", "paid_before"})
    event = CaseUpdated(
        **fields
        | {
            "previous_state": CaseState.CLOSED,
            "state": CaseState.CLOSED,
            "change": DELIVERED_AFTER_LOSS_PAYOUT,
        }
    )
    composed = compose_case_event(
        event, NotificationsSettings(), now=AT, seller_address="seller.dlv@example.com"
    )
    assert not composed.drafts and not composed.lessons
    assert not acts_on_case_event(event)
