"""A claim held for a fraud review: the seller is told it needs a closer look by a person and
by when, never why (nothing of fraud checks, scores or bands), in English and Hindi (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.rendering import india_time, render
from services.notifications.messages.wording_hi import time_hi
from services.notifications.settings import NotificationsSettings
from shared.events import CaseState

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
REVEALING = ("fraud", "score", "risk", "band", "suspic")


def test_a_fraud_review_after_the_wait_for_checks_says_closer_look_and_the_date() -> None:
    # Opened, waited for the assessment, then HIGH: a person decides, later than first told.
    event = samples.case_under_review("C-FR", AT, reason_code="FRAUD_REVIEW").model_copy(
        update={"previous_state": CaseState.OPEN, "case_version": 3}
    )
    [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
    assert draft.template == "timeline_change"
    english = render("timeline_change", draft.context)
    assert event.decision_due_by is not None
    assert "needs a closer look by a member of the desk" in english.text, english.text
    assert f"You will have our decision by {india_time(event.decision_due_by)}" in english.text
    for part in (english.subject, english.text, english.html):
        assert not any(word in part.lower() for word in REVEALING), part
    hindi = render("timeline_change", draft.context, "hi").text
    assert "ध्यान से देखा" in hindi and time_hi(event.decision_due_by) in hindi, hindi
