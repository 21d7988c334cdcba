"""Task, escalation and statement mail: who each event is written to (settings, never the
event), the attachments they carry, and the MIME shape of a message with attachments."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from uuid import uuid4

from services.notifications.catalogue import samples
from services.notifications.channels.base import Attachment, OutgoingMessage
from services.notifications.channels.smtp import SmtpChannel, attachment_filename
from services.notifications.messages.composing import (
    MANAGEMENT,
    PARTNER,
    TEAM,
    compose_partner_statement,
    compose_task_event,
)
from services.notifications.settings import NotificationsSettings

SETTINGS = NotificationsSettings(
    management_recipients=["boss@desk.dev"],
    team_recipients={"finance": ["f1@desk.dev", "f2@desk.dev"]},
    partner_finance_contacts={"swiftship": ["ap@swiftship.example"]},
)
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def test_a_task_is_written_to_its_team_once_per_address() -> None:
    drafts = compose_task_event(samples.task_opened("C-1", AT), SETTINGS).drafts
    assert [d.recipient for d in drafts] == ["f1@desk.dev", "f2@desk.dev"]
    assert {d.template for d in drafts} == {"task_opened"} and {d.audience for d in drafts} == {
        TEAM
    }
    assert len({d.dedup_key for d in drafts}) == 2 and all(not d.attachments for d in drafts)
    # The same event again composes the same keys: the store keeps the first (exactly once).
    again = compose_task_event(samples.task_opened("C-1", AT), SETTINGS).drafts
    assert [d.dedup_key for d in again] == [d.dedup_key for d in drafts]


def test_a_team_with_no_addresses_is_written_to_management() -> None:
    drafts = compose_task_event(samples.task_opened("C-1", AT, team="warehouse"), SETTINGS).drafts
    assert [d.recipient for d in drafts] == ["boss@desk.dev"]


def test_an_escalation_goes_to_management_with_the_report_attached() -> None:
    [draft] = compose_task_event(samples.management_escalation("C-1", AT), SETTINGS).drafts
    assert draft.template == "management_escalation" and draft.audience == MANAGEMENT
    assert draft.recipient == "boss@desk.dev"
    [report] = draft.attachments
    assert report["filename"] == "case-C-1-report.html"
    assert report["content_type"] == "text/html" and "<h1>Case C-1</h1>" in report["content"]
    assert draft.context["has_report"] is True


def test_an_escalation_whose_report_was_too_large_points_to_the_api() -> None:
    event = samples.management_escalation("C-1", AT).model_copy(update={"report_html": None})
    [draft] = compose_task_event(event, SETTINGS).drafts
    assert draft.attachments == () and draft.context["has_report"] is False


def test_an_overdue_task_alerts_management() -> None:
    [draft] = compose_task_event(samples.task_overdue("C-1", AT), SETTINGS).drafts
    assert (draft.template, draft.recipient) == ("task_overdue_alert", "boss@desk.dev")


def test_a_tasks_first_overdue_alert_keeps_the_key_it_had_before_alerts_were_per_due_time() -> None:
    """An overdue event published before alerts were per due time, replayed, must find the
    message it queued then (`task:<id>:task_overdue_alert:<n>`); an alert for a later due time
    the task was moved to is a message of its own."""
    first = samples.task_overdue("C-1", AT)
    assert first.alerted_before is None
    [draft] = compose_task_event(first, SETTINGS).drafts
    assert draft.dedup_key == f"task:{first.task_id}:task_overdue_alert:0"
    later = first.model_copy(update={"alerted_before": AT, "due_at": AT + timedelta(days=1)})
    [again] = compose_task_event(later, SETTINGS).drafts
    assert again.dedup_key == (
        f"task:{first.task_id}@{later.due_at.isoformat()}:task_overdue_alert:0"
    )


def test_a_statement_goes_to_the_partner_finance_contact_with_its_csv() -> None:
    [draft] = compose_partner_statement(samples.partner_statement(AT), SETTINGS).drafts
    assert (draft.recipient, draft.audience) == ("ap@swiftship.example", PARTNER)
    assert draft.dedup_key == "statement:swiftship:2026-11:partner_statement:0"
    [csv_file] = draft.attachments
    assert csv_file["content_type"] == "text/csv"
    assert csv_file["filename"] == "debit-statement-swiftship-2026-11.csv"


def test_a_partner_without_a_finance_contact_gets_no_email() -> None:
    event = samples.partner_statement(AT).model_copy(update={"partner_id": "desipost"})
    assert compose_partner_statement(event, SETTINGS).drafts == []


def test_attachments_follow_the_alternative_in_a_multipart_mixed() -> None:
    channel = SmtpChannel(SETTINGS)
    raw = channel.build(
        OutgoingMessage(
            uuid4(),
            "boss@desk.dev",
            "Case ₹ report",
            "text ₹",
            "<p>html ₹</p>",
            attachments=(Attachment("case report (1).html", "text/html", "<h1>₹ 1,000</h1>"),),
        )
    )
    mail = email.message_from_bytes(raw, policy=default)
    assert isinstance(mail, EmailMessage)
    assert mail.get_content_type() == "multipart/mixed"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "text ₹"
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "case_report__1_.html"
    assert attached.get_content() == "<h1>₹ 1,000</h1>"


def test_a_message_without_attachments_keeps_its_alternative_shape() -> None:
    raw = SmtpChannel(SETTINGS).build(OutgoingMessage(uuid4(), "a@b.dev", "S", "t", "<p>h</p>"))
    assert email.message_from_bytes(raw, policy=default).get_content_type() == (
        "multipart/alternative"
    )
    assert attachment_filename("") == "attachment"
