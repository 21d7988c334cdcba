"""Seller emails where the SOP's words were once wrong (pure: compose, then render)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.rendering import india_time, render
from services.notifications.settings import NotificationsSettings
from shared.events import CaseOrigin, CaseState
from shared.money import rupees as inr

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
TO = "seller@example.com"


def _appeal_outcome(**decision_over: object) -> tuple[str, str]:
    event = samples.appeal_decided("C-APPEAL", AT)
    assert event.decision is not None
    event = event.model_copy(update={"decision": event.decision.model_copy(update=decision_over)})
    [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    assert draft.template == "appeal_outcome"
    out = render(draft.template, draft.context)
    hindi = render(draft.template, draft.context, language="hi")
    return out.text + out.html, hindi.text


@pytest.mark.parametrize("payout", [0, 61_728, 123_456])
def test_a_dismissed_appeal_says_the_original_decision_stands_whatever_it_paid(
    payout: int,
) -> None:
    # A PARTIAL decision (say L11's 50 %) appealed and dismissed still pays its original amount:
    # the seller must read that the appeal failed, not that it succeeded.
    english, hindi = _appeal_outcome(reason_code="APPEAL_UPHELD_ORIGINAL", payout=payout)
    assert "keep the original decision" in english
    assert "successful" not in english
    assert "मूल फ़ैसला बनाए रखना पड़ा" in hindi and "सफल रही" not in hindi
    if payout:
        assert inr(payout) in english
        assert "no payout" not in english


def test_an_overturned_appeal_that_pays_says_it_succeeded() -> None:
    english, hindi = _appeal_outcome()
    assert "your appeal is successful" in english and "₹1,23,456.00" in english
    assert "सफल रही" in hindi


def _duplicate_filing_text(appeal_by_offset: timedelta) -> str:
    event = samples.duplicate_filing("C-DUP", AT)
    event = event.model_copy(update={"appeal_by": AT + appeal_by_offset})
    [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    out = render(draft.template, draft.context)
    return out.text + out.html


def test_a_duplicate_filing_after_the_appeal_window_does_not_offer_an_appeal() -> None:
    # E2b ten days after the first decision: its appeal-by is three days gone.
    text = _duplicate_filing_text(-timedelta(days=3))
    assert "the time for an appeal has passed" in text
    assert "you can appeal it until" not in text


def test_a_duplicate_filing_after_the_appeal_was_decided_is_not_told_time_ran_out() -> None:
    # A case whose appeal was decided carries no appeal-by: final, but not for lack of time.
    event = samples.duplicate_filing("C-DUP", AT).model_copy(update={"appeal_by": None})
    [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    for language in ("en", "hi"):
        out = render(draft.template, draft.context, language)
        assert "the time for an appeal has passed" not in out.text + out.html
        assert "अपील का समय बीत चुका" not in out.text
    english = render(draft.template, draft.context)
    assert "The decision on this case is final, and there is no further appeal." in english.text
    assert "The decision on this case is final, and there is no further appeal." in english.html


def test_a_duplicate_filing_inside_the_appeal_window_gives_the_appeal_by_time() -> None:
    text = _duplicate_filing_text(timedelta(days=3))
    assert f"you can appeal it until {india_time(AT + timedelta(days=3))}" in text


def test_a_filing_that_reopens_a_premature_claim_is_acknowledged() -> None:
    # E3b told the seller to file again after the waiting period; that filing reopens the case
    # (CaseUpdated REOPENED, no CaseOpened), and the seller is owed an acknowledgement for it.
    # The latest decision date is the one reconciliation states from the first verdict and the
    # case's policy (here 36 hours); an event from before it did gets no date, not sop-v1's 48
    # hours from the event.
    for next_step_by, expected in (
        (AT + timedelta(hours=36), AT + timedelta(hours=36)),
        (None, None),
    ):
        reopened = samples.escalation_merged("C-REOPEN", AT, origin=CaseOrigin.SELLER).model_copy(
            update={
                "change": "REOPENED",
                "claimed_amount": 90_000,
                "state": CaseState.OPEN,
                "next_step_by": next_step_by,
            }
        )
        drafts = compose_case_event(reopened, SETTINGS, now=AT, seller_address=TO).drafts
        assert [d.template for d in drafts] == ["acknowledgement"]
        out = render(drafts[0].template, drafts[0].context)
        assert "reopened case C-REOPEN" in out.text
        assert "reopened case <strong>C-REOPEN</strong>" in out.html
        for part in (out.text, out.html):
            assert "₹900.00" in part
            if expected is None:
                assert india_time(AT + timedelta(hours=48)) not in part
                assert "as soon as it is decided" in part
            else:
                assert india_time(expected) in part
    assert "C-REOPEN" in out.subject
    hindi = render(drafts[0].template, drafts[0].context, language="hi")
    assert "C-REOPEN" in hindi.text and "फिर से खोला" in hindi.text


def test_messages_composed_before_these_fields_existed_still_render() -> None:
    # Held messages (no address yet) are rendered from their stored context later.
    ack = compose_case_event(samples.case_opened("C-OLD", AT), SETTINGS, now=AT, seller_address=TO)
    context = dict(ack.drafts[0].context)
    del context["reopened"]
    assert "opened case C-OLD" in render("acknowledgement", context).text
    event = samples.appeal_decided("C-OLD", AT)
    [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    context = dict(draft.context)
    del context["appeal_upheld"]
    assert "your appeal is successful" in render("appeal_outcome", context).text


def test_the_p2_evidence_request_states_the_7_day_window_from_delivery() -> None:
    # SOP P2: email the seller the evidence checklist and the 7-day window.
    # The window is the case's policy's (`claim_window_h`), said in its own unit; an event
    # from before it was recorded gives the window's end alone, never a guessed length.
    for window_h, english, hindi in (
        (168, "open for 7 days from its delivery to you", "डिलीवरी के 7 दिन तक"),
        (36, "open for 36 hours from its delivery to you", "डिलीवरी के 36 घंटे तक"),
        (None, "The time to claim about this return ends at", "दावे का समय"),
    ):
        request = samples.evidence_requested(
            "C-P2", AT, origin=CaseOrigin.PROACTIVE, claim_window_h=window_h
        )
        draft = compose_case_event(request, SETTINGS, now=AT, seller_address=TO).drafts[0]
        assert draft.context["first_word"] is True
        out = render(draft.template, draft.context)
        for part in (out.text, out.html):
            assert english in part, part
            assert india_time(request.reply_by) in part
        assert hindi in render(draft.template, draft.context, language="hi").text


def test_a_refiling_still_too_early_is_told_so_once_in_english_and_hindi() -> None:
    """A filing after an E3b closure that is itself premature (`REFILED_TOO_EARLY`): the case
    stays closed. The one email says so, gives the E3b paragraph's time to file from and the
    first closure's appeal-by, and never says the claim was reopened or that a second case
    was refused (the duplicate-filing words)."""
    from services.notifications.messages.wording_hi import time_hi
    from tests.support.sop_records import PICKUP, sop_record

    event = samples.duplicate_filing("C-E3B", AT).model_copy(
        update={
            "change": "REFILED_TOO_EARLY",
            "state": CaseState.REJECTED,
            "decision": sop_record("E3b"),
            "appeal_by": AT + timedelta(days=5),
        }
    )
    [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    assert draft.template == "duplicate_filing" and draft.recipient == TO
    earliest = PICKUP + timedelta(days=10)
    english = render(draft.template, draft.context)
    assert "still too early" in english.subject and "already has a case" not in english.subject
    for body in (english.text, english.html):
        assert "we have not reopened it" in body
        assert india_time(earliest) in body and india_time(AT + timedelta(days=5)) in body
        assert "so we have not opened a second one" not in body
    hindi = render(draft.template, draft.context, language="hi")
    assert "अभी बहुत जल्दी" in hindi.subject
    assert "दोबारा नहीं खोला" in hindi.text and time_hi(earliest) in hindi.text
    assert time_hi(AT + timedelta(days=5)) in hindi.text
    assert "दूसरा मामला नहीं खोला" not in hindi.text
    assert "we have not reopened" not in hindi.text
