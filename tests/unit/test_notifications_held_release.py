"""What a seller's held messages become when the directory learns the address (pure: the
release plan over held rows, and a held decision's words once its appeal window has closed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.catalogue import samples
from services.notifications.held_release import Held, plan
from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.release import deadline_and_late_words
from services.notifications.messages.rendering import india_time, render
from services.notifications.messages.wording_hi import time_hi
from services.notifications.settings import NotificationsSettings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])


def _held(
    template: str,
    version: int,
    *,
    case_id: str = "CASE-1",
    due: datetime | None = None,
    true_until: datetime | None = None,
    late: dict[str, str] | None = None,
) -> Held:
    return Held(
        message_id=f"{case_id}-{template}-{version}",
        case_id=case_id,
        case_version=version,
        template=template,
        created_at=NOW - timedelta(days=3) + timedelta(minutes=version),
        next_attempt_at=due or NOW - timedelta(days=3),
        true_until=true_until,
        late=late,
    )


def _fates(held: list[Held]) -> dict[str, str]:
    return {str(v.message_id): v.action for v in plan(held, now=NOW)}


def test_the_outcome_supersedes_what_was_said_before_it_of_the_same_case_only() -> None:
    fates = _fates(
        [
            _held("acknowledgement", 1),
            _held("evidence_request", 2),
            _held("evidence_reminder", 2),
            _held("timeline_change", 3),
            _held("decision", 4),
            _held("settlement", 5),
            _held("acknowledgement", 1, case_id="CASE-2"),
        ]
    )
    assert fates == {
        "CASE-1-acknowledgement-1": "superseded",
        "CASE-1-evidence_request-2": "superseded",
        "CASE-1-evidence_reminder-2": "superseded",
        "CASE-1-timeline_change-3": "superseded",
        "CASE-1-decision-4": "send",
        "CASE-1-settlement-5": "send",
        "CASE-2-acknowledgement-1": "send",
    }


def test_a_later_date_supersedes_an_earlier_one_and_an_outcome_its_receipt() -> None:
    fates = _fates(
        [
            _held("acknowledgement", 1),
            _held("timeline_change", 2),
            _held("escalation_update", 3),
            _held("decision", 4),
            _held("appeal_received", 5),
            _held("appeal_outcome", 6),
        ]
    )
    assert fates["CASE-1-timeline_change-2"] == "superseded"
    assert fates["CASE-1-appeal_received-5"] == "superseded"
    # The decision is not made moot by the appeal: the seller learns what was appealed.
    assert fates["CASE-1-decision-4"] == fates["CASE-1-appeal_outcome-6"] == "send"


def test_before_the_outcome_each_goes_out_unless_its_deadline_has_passed() -> None:
    late_words = {"subject": "s", "text": "t", "html": "h"}
    verdicts = plan(
        [
            _held(
                "evidence_reminder",
                2,
                due=NOW + timedelta(hours=20),
                true_until=NOW + timedelta(hours=44),
            ),
            _held("evidence_request", 2, true_until=NOW + timedelta(hours=44)),
            _held("acknowledgement", 1),
            _held("evidence_request", 1, case_id="CASE-9", true_until=NOW - timedelta(hours=1)),
            _held(
                "decision", 3, case_id="CASE-8", true_until=NOW - timedelta(days=1), late=late_words
            ),
        ],
        now=NOW,
    )
    by_id = {str(v.message_id): v for v in verdicts}
    assert by_id["CASE-9-evidence_request-1"].action == "expired"
    assert by_id["CASE-8-decision-3"].action == "send_late"
    # In the case's order, each due now or later; a reminder not due yet keeps its own time.
    sent = [v for v in verdicts if v.action.startswith("send") and v.send_at is not None]
    case_1 = [str(v.message_id) for v in sent if str(v.message_id).startswith("CASE-1-")]
    assert case_1 == [
        "CASE-1-acknowledgement-1",
        "CASE-1-evidence_request-2",
        "CASE-1-evidence_reminder-2",
    ]
    times = [v.send_at for v in sent if str(v.message_id).startswith("CASE-1-")]
    assert all(t is not None and t >= NOW for t in times) and times == sorted(times)  # type: ignore[type-var]
    assert by_id["CASE-1-evidence_reminder-2"].send_at == NOW + timedelta(hours=20)


def test_a_held_decision_after_its_appeal_by_states_the_window_closed_in_both_languages() -> None:
    event = samples.case_decided("CASE-7", NOW - timedelta(days=10), seller_email=None)
    assert event.appeal_by is not None
    drafts = compose_case_event(event, SETTINGS, now=NOW, seller_address="").drafts
    [draft] = [d for d in drafts if d.template == "decision"]
    for language, stamp in (("en", india_time(event.appeal_by)), ("hi", time_hi(event.appeal_by))):
        until, late = deadline_and_late_words(draft.template, draft.context, language)
        assert until == event.appeal_by and late is not None
        assert stamp in late.text
        assert "appeal this decision until" not in late.text + late.html
    until, late = deadline_and_late_words(draft.template, draft.context, "en")
    assert (
        late is not None
        and "The decision stands" in late.text
        and "The decision stands" in late.html
    )


def test_an_evidence_request_ends_at_its_reply_by_with_no_late_words() -> None:
    event = samples.evidence_requested("CASE-6", NOW, seller_email=None)
    drafts = compose_case_event(event, SETTINGS, now=NOW, seller_address="").drafts
    [draft] = [d for d in drafts if d.template == "evidence_request"]
    assert deadline_and_late_words(draft.template, draft.context, "en") == (event.reply_by, None)


def test_a_held_answer_offering_the_appeal_says_after_its_appeal_by_that_the_time_has_passed() -> (
    None
):
    """A second filing's or a message's answer about a decided case offers the appeal until its
    appeal-by; released after it, the answer says the time for an appeal has passed instead."""
    for event in (
        samples.duplicate_filing("CASE-5", NOW - timedelta(days=10), seller_email=None),
        samples.seller_wrote("CASE-4", NOW - timedelta(days=10), seller_email=None),
    ):
        assert event.appeal_by is not None
        drafts = compose_case_event(event, SETTINGS, now=NOW, seller_address="").drafts
        [draft] = [d for d in drafts if d.template in ("duplicate_filing", "message_received")]
        as_written = render(draft.template, draft.context, "en")
        assert india_time(event.appeal_by) in as_written.text
        for language in ("en", "hi"):
            until, late = deadline_and_late_words(draft.template, draft.context, language)
            assert until == event.appeal_by and late is not None, draft.template
            stamps = (india_time(event.appeal_by), time_hi(event.appeal_by))
            assert not any(s in late.text + late.html for s in stamps), late.text
        until, late = deadline_and_late_words(draft.template, draft.context, "en")
        assert late is not None and "the time for an appeal has passed" in late.text
