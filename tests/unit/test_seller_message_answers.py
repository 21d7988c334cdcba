"""What a seller who wrote is told (`message_received`), and who hears of a replaced proposal:
composed from the case event alone, in English and Hindi."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.catalogue import samples
from services.notifications.messages.composing import MANAGEMENT, SELLER, compose_case_event
from services.notifications.messages.rendering import render
from services.notifications.settings import NotificationsSettings
from shared.events import CaseEventBase, CaseState, Outcome
from shared.money import rupees as inr

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
TO = "seller@example.com"


def _texts(event: CaseEventBase) -> tuple[str, str]:
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        if d.audience == SELLER
    ]
    assert draft.template == "message_received"
    english = " ".join(render(draft.template, draft.context).text.split())
    hindi = " ".join(render(draft.template, draft.context, "hi").text.split())
    return english, hindi


def test_a_message_on_a_claim_closed_as_another_sellers_return_is_not_told_it_is_final() -> None:
    """SELLER_MISMATCH has no appeal window and its email asks the seller to reply to have the
    record checked: the reply is told the desk checks it, not that the decision is final."""
    event = samples.seller_wrote("C-MIS", AT).model_copy(
        update={
            "state": CaseState.REJECTED,
            "appeal_by": None,
            "decision": samples.decision_record(
                AT, outcome=None, payout=0, payout_pct=0, reason_code="SELLER_MISMATCH"
            ),
        }
    )
    english, hindi = _texts(event)
    assert "checks the return's record with the marketplace" in english, english
    assert "final" not in english and "appeal" not in english.lower(), english
    assert "मार्केटप्लेस के साथ" in hindi and "अंतिम" not in hindi, hindi


def test_after_the_window_or_the_appeal_the_message_is_told_the_decision_stands() -> None:
    wrote = samples.seller_wrote("C-FIN", AT)
    passed, _ = _texts(wrote.model_copy(update={"appeal_by": AT - timedelta(days=1)}))
    assert "the time for an appeal has passed" in passed, passed
    final, _ = _texts(wrote.model_copy(update={"appeal_by": None}))
    assert "The decision on this case is final, and there is no further appeal" in final
    # A claim paid in full is not told we are sorry the decision stands; a partial one is.
    assert "We are sorry" not in final, final
    partial = wrote.model_copy(
        update={
            "appeal_by": None,
            "decision": samples.decision_record(AT, outcome=Outcome.PARTIAL, payout_pct=50),
        }
    )
    assert "We are sorry this is not the answer you hoped for" in _texts(partial)[0]


def test_a_replaced_proposal_of_the_same_amount_alerts_management_only() -> None:
    changed = samples.proposal_replaced("C-PR1", AT)
    drafts = compose_case_event(changed, SETTINGS, now=AT, seller_address=TO).drafts
    assert [(d.audience, d.template) for d in drafts] == [
        (SELLER, "escalation_update"),
        (MANAGEMENT, "approval_cap_alert"),
    ]
    same = changed.model_copy(
        update={"replaced_decision": changed.decision.model_copy(update={"rule_id": "L10"})}
        if changed.decision
        else {}
    )
    drafts = compose_case_event(same, SETTINGS, now=AT, seller_address=TO).drafts
    assert [(d.audience, d.template) for d in drafts] == [(MANAGEMENT, "approval_cap_alert")]
    alert = " ".join(render("approval_cap_alert", drafts[0].context).text.split())
    assert "The amount the seller was told is unchanged" in alert, alert
    assert "PROP-FEDCBA9876543210" in alert and "PROP-0123456789ABCDEF" in alert, alert
    assert inr(6_000_000) in alert, alert
