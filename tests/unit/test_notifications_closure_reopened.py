"""The seller's answer after a partner's record reopened a closure: it says, in English and in
Hindi, that it replaces the closure's email (named by its time, India time with UTC) and, when
the seller had appealed the closure, that the appeal now stands against the decision (by the
date its acknowledgement gave, no second appeal offered); a review's or management's answer says
instead that the appeal is answered and not used up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event, may_compose
from services.notifications.messages.rendering import render, utc_time
from services.notifications.settings import NotificationsSettings
from shared.events import ReopenedClosure

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
CLOSED = datetime(2026, 11, 26, 9, 29, 12, tzinfo=UTC)


def _decision_texts(closure: ReopenedClosure | None) -> tuple[str, str, str]:
    event = samples.case_decided("C-1", AT).model_copy(update={"closure_reopened": closure})
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
        if d.template == "decision"
    ]
    english = render("decision", draft.context)
    hindi = render("decision", draft.context, "hi")
    return english.text, english.html, hindi.text


@pytest.mark.parametrize("appealed", [False, True])
def test_the_decision_says_it_replaces_the_closure_in_both_languages(appealed: bool) -> None:
    text, html, hindi = _decision_texts(
        ReopenedClosure(
            rule_id="E3",
            reason_code="CLAIM_WINDOW_EXPIRED",
            closed_at=CLOSED,
            appeal_answered=appealed,
        )
    )
    assert "This email replaces our email of 26 Nov 2026, 2:59 PM IST" in text
    assert "that closure no longer stands" in text and "that closure no longer stands" in html
    assert utc_time(CLOSED) in text and utc_time(CLOSED) in hindi
    assert "उस ईमेल की जगह लेता है" in hindi
    # A decision hears the appeal (an ops_manager decides it): never "no manager needs to".
    assert "This also answers your appeal of that closure" not in text + html
    assert "आपकी अपील का भी उत्तर" not in hindi
    assert ("your appeal now stands against this decision" in text) is appealed
    assert ("your appeal now stands against this decision" in html) is appealed
    assert ("अब आपकी अपील इस फ़ैसले के ख़िलाफ़ मानी जाएगी" in hindi) is appealed
    assert ("you can appeal this decision until" in text) is not appealed


def test_the_decision_on_an_appealed_closure_gives_the_date_the_acknowledgement_gave() -> None:
    due = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    text, html, hindi = _decision_texts(
        ReopenedClosure(
            rule_id="E3",
            reason_code="CLAIM_WINDOW_EXPIRED",
            closed_at=CLOSED,
            appeal_answered=True,
            appeal_decision_due_by=due,
        )
    )
    assert "with the result by 28 Nov 2026, 2:30 PM IST" in text, text
    assert utc_time(due) in html and utc_time(due) in hindi


def test_the_hearing_resumed_after_the_record_writes_the_seller_nothing() -> None:
    """The appeal was acknowledged when filed; its hearing against the decision that replaced
    the closure (`CaseAppealed.appealed_at`) sends no second `appeal_received`."""
    resumed = samples.case_appealed("C-1", AT).model_copy(update={"appealed_at": CLOSED})
    drafts = compose_case_event(resumed, SETTINGS, now=AT, seller_address="s@example.com").drafts
    assert [d.template for d in drafts] == []
    assert not may_compose(resumed)
    fresh = samples.case_appealed("C-1", AT)
    assert may_compose(fresh)
    assert "appeal_received" in [
        d.template
        for d in compose_case_event(fresh, SETTINGS, now=AT, seller_address="s@example.com").drafts
    ]


def test_a_decision_with_no_closure_behind_it_says_nothing_of_one() -> None:
    text, html, hindi = _decision_texts(None)
    assert "replaces our email" not in text and "replaces our email" not in html
    assert "जगह लेता है" not in hindi


def test_a_review_of_an_appealed_closure_still_says_the_appeal_is_answered() -> None:
    """A person decides the claim anyway (review, escalation): that answer ends the appeal, not
    used up; only a decision's answer hears it."""
    closure = ReopenedClosure(
        rule_id="E3",
        reason_code="CLAIM_WINDOW_EXPIRED",
        closed_at=CLOSED,
        appeal_answered=True,
        appeal_decision_due_by=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
    )
    event = samples.case_under_review("C-1", AT).model_copy(update={"closure_reopened": closure})
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
    [text] = [render(d.template, d.context).text for d in drafts if d.audience == "seller"]
    assert "This also answers your appeal of that closure" in text, text
    assert "your appeal now stands against this decision" not in text
