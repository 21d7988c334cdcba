"""Pure notification logic: money and time formats, the backoff schedule, SMTP failure
classification, and which messages each event calls for."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest

from services.notifications.addresses import address_hash, mask
from services.notifications.catalogue import samples
from services.notifications.catalogue.registry import TEMPLATES, preview
from services.notifications.channels.smtp import classify
from services.notifications.delivery.backoff import retry_delay_s
from services.notifications.digests.service import next_flush_time
from services.notifications.messages.composing import (
    compose_case_event,
    compose_feedback,
    compose_fraud_alert,
)
from services.notifications.messages.rendering import india_time
from services.notifications.settings import NotificationsSettings

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev", "b@desk.dev"])
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def test_seller_facing_times_are_india_time() -> None:
    assert india_time(AT) == "26 Nov 2026, 3:00 PM IST"
    assert india_time(datetime(2026, 1, 5, 19, 5, tzinfo=UTC)) == "6 Jan 2026, 12:35 AM IST"


def test_backoff_doubles_is_capped_and_jittered() -> None:
    plain = [retry_delay_s(n, base_s=60, max_s=600, jitter=0) for n in range(1, 7)]
    assert plain == [60, 120, 240, 480, 600, 600]
    rng = random.Random(7)
    jittered = {retry_delay_s(3, base_s=60, max_s=600, jitter=0.25, rng=rng) for _ in range(50)}
    assert len(jittered) > 40 and all(180 <= d <= 300 for d in jittered)


def test_smtp_failures_are_classified_and_scrubbed() -> None:
    bounce = classify(
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(550, "<x@y.example> unknown", "x@y.example")]
        )
    )
    assert bounce.permanent and bounce.hard_bounce and bounce.code == 550
    assert "x@y.example" not in str(bounce)
    greylisted = classify(
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(450, "try later", "x@y.example")]
        )
    )
    assert not greylisted.permanent and not greylisted.hard_bounce
    assert classify(aiosmtplib.SMTPDataError(451, "later")).permanent is False
    rejected = classify(aiosmtplib.SMTPDataError(554, "content rejected"))
    assert rejected.permanent and not rejected.hard_bounce
    assert classify(aiosmtplib.SMTPServerDisconnected("gone")).permanent is False
    assert classify(TimeoutError("slow")).permanent is False
    # The client refuses a control character in an address before sending anything: retrying
    # the same message can only fail the same way.
    unsendable = classify(ValueError("Command arg contains a prohibited control character"))
    assert unsendable.permanent and not unsendable.hard_bounce


def test_each_case_event_queues_one_keyed_message_per_case_template_and_version() -> None:
    opened = compose_case_event(
        samples.case_opened("C-1", AT), SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL
    )
    assert [(d.template, d.dedup_key) for d in opened.drafts] == [
        ("acknowledgement", "C-1:acknowledgement:1")
    ]
    no_address = samples.case_opened("C-1", AT, seller_email=None)
    assert compose_case_event(no_address, SETTINGS, now=AT, seller_address=None).drafts == []
    escalated = compose_case_event(
        samples.case_escalated("C-1", AT), SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL
    )
    assert [(d.template, d.recipient, d.audience) for d in escalated.drafts] == [
        ("escalation_update", samples.SAMPLE_EMAIL, "seller"),
        ("sla_breach_alert", "a@desk.dev", "management"),
        ("sla_breach_alert", "b@desk.dev", "management"),
    ]
    assert len({d.dedup_key for d in escalated.drafts}) == 3
    appeal = compose_case_event(
        samples.appeal_decided("C-1", AT), SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL
    )
    assert [d.template for d in appeal.drafts] == ["appeal_outcome"]


def test_only_avoidable_rejections_become_lessons() -> None:
    rejected = compose_case_event(
        samples.case_rejected("C-2", AT), SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL
    )
    assert [d.template for d in rejected.drafts] == ["decision"]
    assert [(lesson.topic, lesson.dedup_key) for lesson in rejected.lessons] == [
        ("EVIDENCE_NOT_PROVIDED", "C-2:policy_education:4")
    ]
    event = samples.case_rejected("C-3", AT)
    assert event.decision is not None
    duplicate = event.model_copy(
        update={"decision": event.decision.model_copy(update={"reason_code": "DUPLICATE_CLAIM"})}
    )
    assert (
        compose_case_event(duplicate, SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL).lessons
        == []
    )
    granted = compose_case_event(
        samples.case_decided("C-4", AT), SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL
    )
    assert granted.lessons == []


def test_outreach_only_after_negative_feedback_and_alerts_to_every_manager() -> None:
    assert [
        d.template
        for d in compose_feedback(
            samples.seller_feedback(AT), SETTINGS, seller_address=samples.SAMPLE_EMAIL
        ).drafts
    ] == ["feedback_outreach"]
    assert (
        compose_feedback(
            samples.seller_feedback(AT, rating=3), SETTINGS, seller_address=samples.SAMPLE_EMAIL
        ).drafts
        == []
    )
    alert = compose_fraud_alert(samples.fraud_alert(AT), SETTINGS)
    assert [d.recipient for d in alert.drafts] == ["a@desk.dev", "b@desk.dev"]
    assert all(d.essential for d in alert.drafts)


def test_every_template_previews_with_case_id_in_subject_and_both_parts() -> None:
    for name in TEMPLATES:
        rendered = preview(name, SETTINGS)
        assert rendered.subject and "\n" not in rendered.subject
        # Mail about an entity, not a case: the alert's entity, the seller, the partner.
        if name not in ("fraud_alert", "feedback_outreach", "partner_statement"):
            assert "CASE-SAMPLE-1" in rendered.subject, name
        assert rendered.text.strip() and "<html" in rendered.html, name
        assert "{{" not in rendered.text and "{%" not in rendered.html, name


def test_digests_flush_at_the_next_configured_india_hour() -> None:
    assert next_flush_time(AT, 18) == datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    late = AT + timedelta(hours=4)  # 19:00 India time
    assert next_flush_time(late, 18) == datetime(2026, 11, 27, 12, 30, tzinfo=UTC)


def test_addresses_are_hashed_case_insensitively_and_masked() -> None:
    assert address_hash("Seller@Example.com ", "k") == address_hash("seller@example.com", "k")
    assert address_hash("seller@example.com", "k") != address_hash("seller@example.com", "j")
    # An internationalised address composed or decomposed is one mailbox (RFC 6532 §3.1).
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    assert composed != decomposed
    assert address_hash(composed, "k") == address_hash(decomposed.upper(), "k")
    assert mask("seller@example.com") == "s***@example.com"


def test_refusals_about_our_connection_settings_are_retried_not_final() -> None:
    must_starttls = classify(aiosmtplib.SMTPSenderRefused(530, "Must issue STARTTLS", "d@x"))
    assert must_starttls.permanent is False
    assert classify(aiosmtplib.SMTPSenderRefused(553, "sender not allowed", "d@x")).permanent


def test_a_denied_claim_is_told_plainly_without_a_zero_payout_line() -> None:
    from services.notifications.messages.rendering import render
    from shared.events import LiableParty, Outcome

    event = samples.case_decided("C-5", AT)
    assert event.decision is not None
    denied = event.model_copy(
        update={
            "decision": event.decision.model_copy(
                update={
                    "outcome": Outcome.DENIED,
                    "liable_party": LiableParty.SELLER,
                    "payout_pct": 0,
                    "payout": 0,
                    "explanation": "The courier recorded delivery with your one-time password.",
                }
            )
        }
    )
    draft = compose_case_event(
        denied, SETTINGS, now=AT, seller_address=samples.SAMPLE_EMAIL
    ).drafts[0]
    rendered = render(draft.template, draft.context)
    for part in (rendered.text, rendered.html):
        assert "we cannot pay it" in part and "₹0.00" not in part
        assert "one-time password" in part and "3 Dec 2026, 3:00 PM IST" in part
    assert "approved" not in rendered.subject


def test_the_mime_we_write_reads_back_exactly() -> None:
    import email
    import uuid
    from email.policy import default

    from services.notifications.channels.base import OutgoingMessage
    from services.notifications.channels.smtp import SmtpChannel

    channel = SmtpChannel(SETTINGS)
    cases = [preview(name, SETTINGS) for name in TEMPLATES]
    for subject in ("₹5 first", "last ₹5", "a ₹5 b ₹6 c", "₹ ₹", "[C-1] plain"):
        cases.append(cases[0].__class__(subject=subject, text="x\n", html="<p>y</p>\n"))
    for rendered in cases:
        message_id = uuid.uuid4()
        raw = channel.build(
            OutgoingMessage(
                message_id, "seller@example.com", rendered.subject, rendered.text, rendered.html
            )
        )
        parsed = email.message_from_bytes(raw, policy=default)
        assert parsed["Subject"] == rendered.subject
        assert parsed["Message-ID"] == f"<{message_id}@disputedesk.dev>"
        assert parsed.get_body(("plain",)).get_content() == rendered.text  # type: ignore[union-attr]
        assert parsed.get_body(("html",)).get_content() == rendered.html  # type: ignore[union-attr]
        body = raw.split(b"\n\n", 1)[1]
        assert max(len(line) for line in body.split(b"\n")) <= 76  # quoted-printable lines


def test_every_seller_email_states_a_time_in_india_time_with_the_utc_beside_it() -> None:
    seen = 0
    for name, info in TEMPLATES.items():
        if info.audience != "seller" or name == "policy_education":
            continue
        rendered = preview(name, SETTINGS)
        for part in (rendered.text, rendered.html):
            for match in re.finditer(r"\d{1,2}:\d{2} [AP]M IST", part):
                seen += 1
                after = part[match.end() : match.end() + 40]
                assert re.match(r" \(\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC\)", after), (name, after)
    assert seen > 10


def test_a_review_after_the_sop_could_not_decide_says_why_in_the_sellers_terms() -> None:
    from services.notifications.messages.wording import review_reason

    # How long the case waited is the case's policy's (`facts_wait_h`), not a written 48.
    assert "has not reached us within 48 hours" in review_reason(
        "OPEN", "MISSING_FACTS", facts_wait_h=48
    )
    assert "has not reached us within 36 hours" in review_reason(
        "OPEN", "MISSING_FACTS", facts_wait_h=36
    )
    assert "48" not in review_reason("OPEN", "MISSING_FACTS")
    assert "routine checks" in review_reason("OPEN", "FRAUD_ASSESSMENT_MISSING")
    assert "standard rules" in review_reason("OPEN", "NO_RULE_MATCHED")
    # A fraud review is never named to the seller.
    assert "fraud" not in review_reason("OPEN", "FRAUD_REVIEW").lower()


def test_a_p2_case_closed_for_want_of_evidence_does_not_speak_of_a_claim() -> None:
    from services.notifications.messages.rendering import render
    from shared.events import CaseOrigin

    event = samples.case_rejected("CASE-P2", AT, origin=CaseOrigin.PROACTIVE, claimed_amount=None)
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address="s@x.dev").drafts
        if d.template == "decision"
    ]
    rendered = render("decision", draft.context)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "your claim" not in part.lower(), part
    assert "we opened" in rendered.text.lower() and "without a payout" in rendered.text


@pytest.mark.parametrize("reason", ["ABOVE_APPROVAL_CAP", "SLA_BREACHED"])
@pytest.mark.parametrize("language", ["en", "hi"])
def test_an_escalated_case_the_desk_opened_itself_does_not_speak_of_a_claim(
    reason: str, language: str
) -> None:
    """A P1 loss above the approval cap is escalated before the seller ever filed anything."""
    from services.notifications.messages.rendering import render
    from shared.events import CaseOrigin

    event = samples.case_escalated(
        "CASE-P1", AT, reason, origin=CaseOrigin.PROACTIVE, claimed_amount=None
    )
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address="s@x.dev").drafts
        if d.template == "escalation_update"
    ]
    rendered = render("escalation_update", draft.context, language)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "your claim" not in part.lower(), part
        assert "आपके दावे" not in part, part
    assert "CASE-P1" in rendered.subject
