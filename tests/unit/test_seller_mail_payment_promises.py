"""A payment held for a team's check is a promise to the seller: the decision's date, what the
check is (the policy's routine one or the desk's own), a second filing told that the money has
not moved, and an apology with a new date when the date is missed (pure: compose, then render)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.notifications.catalogue import samples
from services.notifications.messages.composing import (
    SELLER,
    compose_case_event,
    compose_task_event,
    may_compose,
)
from services.notifications.messages.rendering import Rendered, india_time, render
from services.notifications.messages.wording_hi import time_hi
from services.notifications.settings import NotificationsSettings
from shared.events import CaseEventBase, CaseState, CaseTaskOverdue, SettlementWait
from shared.money import rupees

SETTINGS = NotificationsSettings(management_recipients=["desk@example.com"])
AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TO = "seller@example.com"
ROUTINE = "a routine check on every payout of this size"


def _seller_mail(event: CaseEventBase, template: str, language: str = "en") -> Rendered:
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    [draft] = [d for d in drafts if d.audience == SELLER]
    assert draft.template == template
    return render(template, draft.context, language)


def test_a_held_payment_past_its_date_gets_one_apology_with_what_waits_and_a_new_date() -> None:
    event = samples.settlement_overdue("C-LATE", AT)
    assert may_compose(event)
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    # The seller alone: management has its task-overdue alert already.
    assert [(d.template, d.audience) for d in drafts] == [("payment_delayed", SELLER)]
    new_date = event.next_step_by
    assert new_date is not None and event.decision is not None
    mail = render("payment_delayed", drafts[0].context)
    assert "We are sorry" in mail.subject and "delayed" in mail.subject
    assert "We are sorry" in mail.text and "has not been made by the date we gave you" in mail.text
    assert rupees(event.decision.payout) in mail.text
    assert "What still waits: our finance team confirms the payment" in mail.text, mail.text
    assert f"we now expect this by {india_time(new_date)}" in mail.text, mail.text
    assert "You do not need to do anything" in mail.text
    # Nothing of anyone else: the partner, its debit or the team's own ask.
    assert "swiftship" not in mail.text and rupees(event.decision.partner_debit) not in mail.text
    hindi = _seller_mail(event, "payment_delayed", "hi")
    assert "क्षमा करें" in hindi.text and time_hi(new_date) in hindi.text
    assert rupees(event.decision.payout) in hindi.text


def test_a_check_the_desk_asked_for_is_not_worded_as_the_policys_routine_one() -> None:
    due = AT + timedelta(hours=24)
    policy = samples.case_decided(
        "C-POL", AT, settlement_waits=[SettlementWait(team="finance", expected_by=due)]
    )
    desk = samples.case_decided(
        "C-DSK",
        AT,
        settlement_waits=[SettlementWait(team="finance", expected_by=due, kind="DESK")],
    )
    assert ROUTINE in _seller_mail(policy, "decision").text
    text = _seller_mail(desk, "decision").text
    assert ROUTINE not in text, text
    assert "our finance team checks this payment on your case before it is released" in text
    assert f"We expect this by {india_time(due)}" in text
    hindi = _seller_mail(desk, "decision", "hi").text
    assert "सामान्य जाँच" not in hindi and "वित्त टीम" in hindi
    # Each team the desk can ask is named in seller terms, not as "a team at the marketplace".
    brand = samples.case_decided(
        "C-BRD",
        AT,
        settlement_waits=[
            SettlementWait(team="brand_management", expected_by=due, kind="DESK"),
            SettlementWait(team="logistics_partner_ops", expected_by=due, kind="DESK"),
        ],
    )
    text = _seller_mail(brand, "decision").text
    assert "our brand team checks the item" in text
    assert "we confirm the return's journey with the logistics partner" in text


def test_a_second_filing_on_a_case_whose_payment_waits_is_told_the_money_has_not_moved() -> None:
    due = AT + timedelta(hours=20)
    event = samples.duplicate_filing("C-DUP", AT).model_copy(
        update={
            "state": CaseState.DECIDED,
            "settlement_waits": [SettlementWait(team="warehouse", expected_by=due)],
        }
    )
    text = _seller_mail(event, "duplicate_filing").text
    assert "it is decided. Its payment has not been made yet." in text, text
    assert "our returns warehouse confirms what came back" in text
    assert f"We expect this by {india_time(due)}" in text
    hindi = _seller_mail(event, "duplicate_filing", "hi").text
    assert "भुगतान अभी नहीं हुआ" in hindi and time_hi(due) in hindi
    # A closed case (paid) says nothing of a wait.
    closed = samples.duplicate_filing("C-DUPC", AT)
    assert "has not been made yet" not in _seller_mail(closed, "duplicate_filing").text


def test_a_task_given_a_new_date_alerts_management_again_when_that_one_passes() -> None:
    first = CaseTaskOverdue(
        task_id=UUID("6a4f7c1e-1d2b-4c3e-8f5a-9b0c1d2e3f40"),
        case_id="C-T",
        return_id="R-T",
        team="finance",
        ask="Confirm the payout",
        due_at=AT,
        blocks_settlement=True,
        opened_by="system",
        occurred_at=AT,
    )
    # The second alert says there was one before it (reconciliation's `alerted_before`).
    again = first.model_copy(update={"due_at": AT + timedelta(hours=24), "alerted_before": AT})
    keys = [compose_task_event(e, SETTINGS).drafts[0].dedup_key for e in (first, first, again)]
    assert keys[0] == keys[1] and keys[0] != keys[2]
