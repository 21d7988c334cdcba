"""The seller's answer after a partner's record reopened a closure: it says, in English and in
Hindi, that it replaces the closure's email (named by its time, India time with UTC) and, when
the seller had appealed the closure, that the appeal is answered and not used up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event
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
    assert ("This also answers your appeal of that closure" in text) is appealed
    assert ("This also answers your appeal of that closure" in html) is appealed
    assert ("आपकी अपील का भी उत्तर" in hindi) is appealed


def test_a_decision_with_no_closure_behind_it_says_nothing_of_one() -> None:
    text, html, hindi = _decision_texts(None)
    assert "replaces our email" not in text and "replaces our email" not in html
    assert "जगह लेता है" not in hindi
