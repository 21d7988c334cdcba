"""A merged filing's acknowledgement stored while the case waited for evidence, replaced when
the case moves on before it goes out: worded for where the case stands then, in English and in
Hindi (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import (
    compose_case_event,
    leaves_the_evidence_wait,
    refreshed_acknowledgement,
    replaces_acknowledgement,
)
from services.notifications.messages.rendering import india_time, render
from services.notifications.messages.wording_hi import time_hi
from services.notifications.settings import NotificationsSettings
from shared.events import CaseEventBase, CaseState, CaseUpdated
from tests.unit.test_notifications_hindi_no_english import _english_left

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 21, 45, tzinfo=UTC)
TO = "seller@example.com"
STALE = "If you have not sent everything on the checklist"


def _left_the_wait(event: CaseEventBase) -> CaseEventBase:
    return event.model_copy(
        update={"previous_state": CaseState.AWAITING_EVIDENCE, "case_version": 5}
    )


def _checks_remain() -> CaseEventBase:
    merged = samples.escalation_merged("C-MV", AT)
    assert isinstance(merged, CaseUpdated)
    return _left_the_wait(
        merged.model_copy(
            update={
                "change": "WAITING_FOR_FRAUD_ASSESSMENT",
                "state": CaseState.OPEN,
                "next_step_by": None,
            }
        )
    )


DECISION_WITH_IT = "is in the email we are sending"
MOVES = {
    "decided": (_left_the_wait(samples.case_decided("C-MV", AT)), DECISION_WITH_IT),
    "rejected": (_left_the_wait(samples.case_rejected("C-MV", AT)), DECISION_WITH_IT),
    "review": (
        _left_the_wait(samples.case_under_review("C-MV", AT, reason_code="EVIDENCE_RECEIVED")),
        "You will hear from us with the decision by",
    ),
    "checks": (_checks_remain(), "We will write to you as soon as the case is decided"),
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_the_replacement_says_where_the_case_stands_not_what_to_send(name: str) -> None:
    event, said = MOVES[name]
    assert leaves_the_evidence_wait(event)
    draft = refreshed_acknowledgement(event, SETTINGS, TO, send_at=None)
    assert (draft.template, draft.case_version) == ("merge_acknowledgement", 5)
    english = render(draft.template, draft.context)
    assert said in english.text and STALE not in english.text, english.text
    assert "you do not need to file again" in english.text
    due = draft.context["next_step_by"]
    if due is not None:
        assert india_time(due) in english.text
    hindi = render(draft.template, draft.context, language="hi")
    assert not _english_left(hindi.text, signature=SETTINGS.desk_signature), hindi.text
    if due is not None:
        assert time_hi(due) in hindi.text


def test_a_move_to_e1s_wait_with_the_checklist_unmet_does_not_say_nothing_to_do() -> None:
    # A claim adopted by a case waiting for the P2 evidence, moved to E1's wait for scans: the
    # evidence request may still follow, so the reworded acknowledgement lists what is missing.
    waiting = _checks_remain().model_copy(
        update={"change": "WAITING_FOR_PENDING_SCANS", "evidence_missing": ["PHOTOS"]}
    )
    assert leaves_the_evidence_wait(waiting)
    draft = refreshed_acknowledgement(waiting, SETTINGS, TO, send_at=None)
    english = render(draft.template, draft.context).text
    assert "do not need to do anything" not in english, english
    assert "If your claim goes ahead" in english and STALE not in english
    assert draft.context["evidence_missing"] and draft.context["evidence_missing"][0] in english
    hindi = render(draft.template, draft.context, language="hi").text
    assert not _english_left(hindi, signature=SETTINGS.desk_signature), hindi


def test_only_a_move_out_of_the_wait_replaces_it() -> None:
    requested = samples.evidence_requested("C-MV", AT, case_version=5)
    assert not leaves_the_evidence_wait(
        requested.model_copy(update={"previous_state": CaseState.AWAITING_EVIDENCE})
    )
    assert not leaves_the_evidence_wait(samples.case_decided("C-MV", AT))  # from OPEN
    # A merge while waiting is the case's third version at the earliest, the move its fourth.
    early = _left_the_wait(samples.case_decided("C-MV", AT)).model_copy(update={"case_version": 3})
    assert not leaves_the_evidence_wait(early)
    assert leaves_the_evidence_wait(early.model_copy(update={"case_version": 4}))


def test_the_e1_acknowledgement_says_the_request_may_follow_not_that_it_will() -> None:
    opened = samples.case_opened(
        "C-E1",
        AT,
        awaiting_return_until=AT + timedelta(hours=48),
        asks_for_evidence=True,
        asks_once_facts_are_in=True,
    )
    [draft] = compose_case_event(opened, SETTINGS, now=AT, seller_address=TO).drafts
    text = render(draft.template, draft.context).text
    assert "if your claim goes ahead" in text and "our next email" not in text, text
    assert "do not need to do anything" not in text
    hindi = render(draft.template, draft.context, language="hi").text
    assert not _english_left(hindi, signature=SETTINGS.desk_signature), hindi


def test_a_decision_after_the_wait_replaces_it_too() -> None:
    """A filing completed the checklist, the case waited for the fraud check (`OPEN`) and is
    decided from there: an acknowledgement still unsent says "we will write once it is
    decided", so the decision brings one that says the decision is with it."""
    after_checks = samples.case_decided("C-MV", AT, case_version=5, previous_state="OPEN")
    assert replaces_acknowledgement(after_checks)
    assert not leaves_the_evidence_wait(after_checks)
    draft = refreshed_acknowledgement(after_checks, SETTINGS, TO, send_at=None)
    assert DECISION_WITH_IT in render(draft.template, draft.context).text
    # A claim decided at its third version had no merge that could still wait.
    assert not replaces_acknowledgement(samples.case_decided("C-MV", AT))
