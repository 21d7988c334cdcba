"""Which emails the later steps of a case call for (issue 17, pure, no I/O): settlement with its
payment reference, appeal received, the evidence reminder and what cancels it, the timeline
change, and a logged call summarised in the next email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.notifications.catalogue import samples
from services.notifications.messages.composing import (
    answer_after_uploads_settle,
    cancels_reminder,
    compose_case_event,
    payment_reference,
    reminder_time,
)
from services.notifications.messages.rendering import render
from services.notifications.settings import NotificationsSettings
from shared.events import CaseNoteAdded, CaseOrigin, CaseState, CaseUpdated

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
TO = "seller@example.com"


def _drafts(event: object) -> list[tuple[str, datetime | None]]:
    out = compose_case_event(event, SETTINGS, now=AT, seller_address=TO)  # type: ignore[arg-type]
    return [(d.template, d.send_at) for d in out.drafts]


def test_a_paying_settlement_is_told_with_its_ledger_reference_and_one_paying_nothing_is_not() -> (
    None
):
    settled = samples.case_settled("C-1", AT)
    [draft] = compose_case_event(settled, SETTINGS, now=AT, seller_address=TO).drafts
    assert draft.template == "settlement"
    tx = UUID("5f0c2a8e-7d1b-4c3e-9a6f-2b8d4e1c7a90")
    assert draft.context["payment_reference"] == payment_reference(tx)
    rendered = render("settlement", draft.context)
    assert "₹1,23,456.00" in rendered.subject and payment_reference(tx) in rendered.text
    # Nothing paid (a rejection) or nothing posted (an appeal dismissed): the decision says it.
    unpaid = settled.model_copy(
        update={"decision": samples.decision_record(AT, payout=0, payout_pct=0)}
    )
    assert _drafts(unpaid) == []
    assert _drafts(settled.model_copy(update={"ledger_transaction_id": None})) == []


def test_an_appeal_is_acknowledged() -> None:
    assert _drafts(samples.case_appealed("C-1", AT)) == [("appeal_received", None)]


def test_the_reminder_is_scheduled_before_reply_by_unless_the_request_is_that_late() -> None:
    request = samples.evidence_requested("C-1", AT)  # reply-by in 72 hours
    at = request.reply_by - timedelta(hours=SETTINGS.evidence_reminder_lead_h)
    assert _drafts(request) == [("evidence_request", None), ("evidence_reminder", at)]
    late = request.model_copy(update={"reply_by": AT + timedelta(hours=20)})
    assert reminder_time(late, SETTINGS, now=AT) is None
    # Processed after the reminder's time (a backlog): no reminder either.
    assert reminder_time(request, SETTINGS, now=at) is None
    assert _drafts(late) == [("evidence_request", None)]


def test_an_answer_to_evidence_waits_for_the_uploads_to_settle_from_when_it_is_handled() -> None:
    settle = timedelta(seconds=SETTINGS.evidence_settle_s)
    request = samples.evidence_requested("C-1", AT)  # reply-by in 72 hours
    assert answer_after_uploads_settle(request, SETTINGS, now=AT) is None  # a first request
    answer = request.model_copy(update={"received": ["1 photo of the item"]})
    assert answer_after_uploads_settle(answer, SETTINGS, now=AT) == AT + settle
    # Handled behind a backlog: the wait counts from now, so the next upload, handled moments
    # later, still finds this answer unsent and overtakes it.
    behind = AT + timedelta(hours=1)
    assert answer_after_uploads_settle(answer, SETTINGS, now=behind) == behind + settle
    # On the reply-by's last day too: only a reply-by that comes first sends it at once.
    last_day = answer.model_copy(update={"reply_by": AT + timedelta(hours=2)})
    assert answer_after_uploads_settle(last_day, SETTINGS, now=AT) == AT + settle
    due_now = answer.model_copy(update={"reply_by": AT + settle / 2})
    assert answer_after_uploads_settle(due_now, SETTINGS, now=AT) is None


def test_leaving_the_wait_or_sending_evidence_cancels_the_reminder_and_a_note_does_not() -> None:
    waiting = {"previous_state": CaseState.AWAITING_EVIDENCE}
    assert cancels_reminder(samples.case_decided("C-1", AT, **waiting))
    assert cancels_reminder(samples.case_under_review("C-1", AT))
    added = samples.escalation_merged("C-1", AT, **waiting)
    assert cancels_reminder(added.model_copy(update={"change": "EVIDENCE_ADDED"}))
    assert not cancels_reminder(added.model_copy(update={"change": "ASSIGNED"}))
    # A filing that merged with the evidence met the checklist: the case waits for the fraud
    # check instead, with no EVIDENCE_ADDED of its own.
    assert cancels_reminder(
        added.model_copy(update={"change": "WAITING_FOR_FRAUD_ASSESSMENT", "state": CaseState.OPEN})
    )
    base = samples.case_decided("C-1", AT, **waiting).model_dump(
        exclude={
            "type",
            "appeal_by",
            "paid_before",
            "settlement_waits",
            "closure_reopened",
            "seller_contact",
            "seller_email",
        }
    )
    note = CaseNoteAdded(**{**base, "state": CaseState.AWAITING_EVIDENCE}, note="called")
    assert not cancels_reminder(note)
    assert not cancels_reminder(samples.case_decided("C-1", AT))  # never waited
    assert isinstance(added, CaseUpdated)


def test_review_after_the_opening_is_a_timeline_change_with_its_new_date() -> None:
    review = samples.case_under_review("C-1", AT)
    [draft] = compose_case_event(review, SETTINGS, now=AT, seller_address=TO).drafts
    assert draft.template == "timeline_change"
    rendered = render("timeline_change", draft.context)
    assert "28 Nov 2026" in rendered.subject and "decides it personally" in rendered.text
    # Straight after the opening too: whether the SOP sends a claim to a person at its opening
    # or after a wait depends on when its facts arrive, and the seller's emails must not. The
    # acknowledgement gave this date: the email says it holds, and why a person decides.
    first = review.model_copy(update={"previous_state": CaseState.OPEN, "case_version": 2})
    [straight] = compose_case_event(first, SETTINGS, now=AT, seller_address=TO).drafts
    assert straight.template == "timeline_change" and straight.context["date_given"]
    told = render("timeline_change", straight.context)
    assert "the date we gave you holds" in told.text and "change in the timeline" not in told.text
    assert "A new date" not in told.subject and "28 Nov 2026" in told.subject
    assert told.text.split("You will have our decision")[0].endswith("checks.\n\n"), told.text
    hindi = render("timeline_change", {**straight.context}, "hi")
    assert "वही लागू है" in hindi.text and "नई तारीख" not in hindi.subject
    later = review.model_copy(update={"previous_state": CaseState.OPEN, "case_version": 4})
    assert [t for t, _ in _drafts(later)] == ["timeline_change"]
    again = review.model_copy(update={"previous_state": CaseState.UNDER_REVIEW})
    assert _drafts(again) == []


def test_calls_render_in_the_next_email_only_when_given() -> None:
    [draft] = compose_case_event(
        samples.case_decided("C-1", AT), SETTINGS, now=AT, seller_address=TO
    ).drafts
    plain = render("decision", draft.context)
    assert "Your calls with us" not in plain.text + plain.html
    calls = [{"logged_at": AT, "summary": "Seller will send photos."}]
    told = render("decision", {**draft.context, "calls": calls})
    for part in (told.text, told.html):
        assert "Your calls with us about this case" in part and "Seller will send photos." in part


def test_an_answer_to_part_of_a_weight_drop_checklist_asks_for_the_rest_of_a_case() -> None:
    """P2: the desk opened the case; the seller sent a photo, the checklist wants the video AND
    the weight. The answer speaks of the case (no claim was filed) and asks for what is still
    missing, not for "one of" two things both needed; it waits for the uploads to settle."""
    event = samples.evidence_requested(
        "C-P2",
        AT,
        origin=CaseOrigin.PROACTIVE,
        claimed_amount=None,
        case_version=4,
    ).model_copy(
        update={
            "checklist": [
                "An unboxing video of the returned parcel",
                "The weight of the parcel as you received it, in grams",
            ],
            "received": {"PHOTO": 1},
            "reply_by": AT + timedelta(days=6),
        }
    )
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
    [answer] = [d for d in drafts if d.template == "evidence_request"]
    assert answer.send_at == AT + timedelta(seconds=SETTINGS.evidence_settle_s)
    for language in ("en", "hi"):
        out = render("evidence_request", answer.context, language)
        assert "one of the following" not in out.text + out.html
        assert "विकल्पों में से किसी एक" not in out.text
    english = render("evidence_request", answer.context).text
    assert "what we need to decide the case, so please send what is still missing" in english


def test_a_first_request_names_what_came_with_the_claim_and_asks_only_for_the_rest() -> None:
    """E4 on a damage claim filed with one photo: the first request says the photo reached us
    and lists what each acceptable set still lacks (a video, or one more photo and a label
    photo), in English and Hindi. It is still a first request: sent at once, not an answer to
    evidence (which waits for uploads to settle and spaces the next answer)."""
    event = samples.evidence_requested("C-FIRST", AT).model_copy(
        update={
            "checklist": [
                "An unboxing video of the returned parcel, or",
                "At least 2 photos of the item and 1 photo of the shipping label",
            ],
            "received": {"PHOTO": 1},
            "answers_evidence": False,
            "still_needed": [{"UNBOXING_VIDEO": 1}, {"PHOTO": 1, "LABEL_PHOTO": 1}],
        }
    )
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
    [request] = [d for d in drafts if d.template == "evidence_request"]
    assert request.send_at is None and not request.answers_evidence
    english = render("evidence_request", request.context)
    for out in (english.text, english.html):
        assert "So far we have received: 1 photo of the item." in out
        assert "An unboxing video, or" in out
        assert "1 more photo of the item and a photo of the shipping label" in out
        assert "At least 2 photos" not in out
        assert "Thank you for the evidence" not in out
    hindi = render("evidence_request", request.context, "hi").text
    assert "अब तक हमें यह मिला है: 1 सामान की फ़ोटो।" in hindi
    assert "1. एक अनबॉक्सिंग वीडियो, या" in hindi
    assert "1 और सामान की फ़ोटो तथा एक शिपिंग लेबल की फ़ोटो" in hindi
