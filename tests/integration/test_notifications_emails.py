"""What sellers and managers read: every template's content for a realistic case, sent by the
running notifications service from case events on Kafka to the real SMTP sink; and redelivered
events never send anything twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from services.notifications.catalogue import samples
from services.notifications.messages.rendering import india_time
from services.notifications.settings import NotificationsSettings
from shared.events import CaseState
from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import uid
from tests.support.mail import html_part, messages_mentioning, text_part
from tests.support.notifications import envelope, handled, nothing_due, publish
from tests.support.waiting import eventually

MANAGERS = NotificationsSettings().management_recipients


async def _mails(harness: Harness, needle: str, count: int) -> list[Message]:
    return await eventually(
        lambda: asyncio.to_thread(messages_mentioning, harness.mail_dir, needle),
        until=lambda found: len(found) >= count,
        what=f"{count} emails mentioning {needle}",
    )


def _one(mails: list[Message], subject_part: str, to: str | None = None) -> Message:
    found = [
        m for m in mails if subject_part in str(m["Subject"]) and (to is None or m["To"] == to)
    ]
    assert len(found) == 1, [str(m["Subject"]) for m in mails]
    return found[0]


def _in_both(mail: Message, *needles: str) -> None:
    text, html = text_part(mail), html_part(mail)
    for needle in needles:
        assert needle in text, f"{needle!r} missing from the text part:\n{text}"
        assert needle in html, f"{needle!r} missing from the HTML part:\n{html}"


async def test_every_seller_and_management_email_says_what_happened_and_what_comes_next(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    case_id = uid("CASE")
    seller_email = f"{uid('seller').lower()}@example.com"
    over = {"seller_email": seller_email, "return_id": uid("RET")}
    opened = samples.case_opened(case_id, at, **over)
    evidence = samples.evidence_requested(case_id, at, **over)
    sla = samples.case_escalated(case_id, at, "SLA_BREACHED", **over)
    cap = samples.case_escalated(case_id, at, "ABOVE_APPROVAL_CAP", **over).model_copy(
        update={"case_version": 6}
    )
    decided = samples.case_decided(case_id, at, **over).model_copy(update={"case_version": 7})
    await publish(
        harness.env["KAFKA_BOOTSTRAP_SERVERS"],
        *(envelope(e) for e in (opened, evidence, sla, cap, decided)),
    )
    # seller: ack, evidence, two escalation updates, decision; managers: SLA and cap alerts.
    mails = await _mails(harness, case_id, 5 + 2 * len(MANAGERS))

    ack = _one(mails, "We have your claim", to=seller_email)
    assert case_id in ack["Subject"]
    _in_both(ack, case_id, opened.return_id, "₹1,23,456.00", india_time(at + timedelta(hours=48)))

    ev = _one(mails, "Please send evidence", to=seller_email)
    assert india_time(evidence.reply_by) in ev["Subject"]
    _in_both(
        ev,
        "An unboxing video",
        "A photo of the shipping label",
        india_time(evidence.reply_by),
        "close the claim without a payout",
    )

    updates = [m for m in mails if "An update on your claim" in str(m["Subject"])]
    assert len(updates) == 2
    texts = " ".join(text_part(m) for m in updates)
    assert (
        "not been decided by the date we gave you" in texts
        and "a desk manager approves the payout" in texts
    )

    decision = _one(mails, "approved in full", to=seller_email)
    assert "₹1,23,456.00" in decision["Subject"] and case_id in decision["Subject"]
    assert decided.appeal_by is not None
    _in_both(
        decision,
        "₹1,23,456.00",
        "a drop of 840 g",  # the decision's own plain-language reason
        "the logistics partner that carried the return is responsible",  # who bears it, neutrally
        india_time(decided.appeal_by),  # the appeal-by date
        "Appeal",
        "credited to your seller account",
    )
    assert "L6" not in text_part(decision)  # no rule ids for sellers

    for manager in MANAGERS:
        sla_alert = _one(mails, "SLA breached", to=manager)
        assert case_id in sla_alert["Subject"]
        _in_both(sla_alert, case_id, sla.return_id, "Action needed")
        cap_alert = _one(mails, "Approval needed", to=manager)
        assert "₹1,23,456.00" in cap_alert["Subject"]
        _in_both(cap_alert, "₹1,23,456.00", "L6", "four-eyes")
    assert all(m["To"] != seller_email for m in mails if "SLA breached" in str(m["Subject"]))


async def test_rejection_and_appeal_outcome_emails_give_the_reason_and_the_way_forward(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    rejected_case, appealed_case = uid("CASE"), uid("CASE")
    seller_email = f"{uid('seller').lower()}@example.com"
    rejected = samples.case_rejected(rejected_case, at, seller_email=seller_email)
    appeal = samples.appeal_decided(appealed_case, at, seller_email=seller_email)
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], envelope(rejected), envelope(appeal))

    [closed] = await _mails(harness, rejected_case, 1)
    assert rejected_case in closed["Subject"] and "was closed" in closed["Subject"]
    assert rejected.appeal_by is not None and rejected.reply_by is not None
    _in_both(
        closed,
        "We did not receive the evidence we asked for before the reply-by time",
        "The time to send it ended on",
        india_time(rejected.reply_by),
        "none had arrived when the 72-hour reply-by time passed",
        india_time(rejected.appeal_by),
        "Appeal",
    )
    [outcome] = await _mails(harness, appealed_case, 1)
    assert appealed_case in outcome["Subject"] and "appeal" in outcome["Subject"]
    _in_both(
        outcome,
        "your appeal is successful",
        "₹1,23,456.00",
        "shows the parcel was resealed",
        "not involved in the original decision",
    )
    # The lesson for the avoidable rejection waits for the seller's daily digest.
    notifications = pipeline["notifications"]
    lessons = await eventually(
        lambda: scalar(
            notifications,
            "SELECT count(*) FROM digest_items WHERE case_id = :c",
            c=rejected_case,
        ),
        what="education lesson gathered for the digest",
    )
    assert lessons == 1


async def test_fraud_alert_and_negative_feedback_reach_the_right_people(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    import uuid

    at = datetime.now(UTC).replace(microsecond=0)
    hub = uid("HUB")
    alert = samples.fraud_alert(at, alert_id=uuid.uuid4(), entity_id=hub)
    seller_email = f"{uid('seller').lower()}@example.com"
    feedback_id, happy_id, seller = uid("FB"), uid("FB"), uid("S")
    unhappy = samples.seller_feedback(
        at, feedback_id=feedback_id, seller_id=seller, seller_email=seller_email
    )
    happy = samples.seller_feedback(
        at,
        feedback_id=happy_id,
        rating=5,
        seller_id=seller,
        seller_email=seller_email,
        return_id=None,
        text=f"All good {happy_id}",
    )
    # One seller's feedback, keyed by the seller: the happy one goes first on the partition,
    # so the outreach for the unhappy one proves it has been read.
    await publish(
        harness.env["KAFKA_BOOTSTRAP_SERVERS"],
        envelope(alert),
        envelope(happy),
        envelope(unhappy),
    )
    alerts = await _mails(harness, hub, len(MANAGERS))
    assert {m["To"] for m in alerts} == set(MANAGERS)
    _in_both(alerts[0], "HIGH", hub, "6.2 times its 8-week baseline", "Audit the hub")

    [outreach] = await _mails(harness, seller_email, 1)
    assert outreach["To"] == seller_email
    _in_both(outreach, "1 out of 5", "a senior member of the desk will call you")
    assert "rejected & I lost" in text_part(outreach)
    assert "rejected &amp; I lost" in html_part(outreach)  # HTML is autoescaped
    assert not await asyncio.to_thread(messages_mentioning, harness.mail_dir, happy_id)


async def test_redelivered_case_events_send_nothing_twice(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    at = datetime.now(UTC)
    case_id = uid("CASE")
    opened = samples.case_opened(case_id, at, seller_email="redelivery@example.com")
    decided = samples.case_decided(case_id, at, seller_email="redelivery@example.com")
    first = envelope(opened)
    # The same envelope twice (a relay retry), and the same transition under a new ce_id
    # (the producer re-recorded it): one message per (case, template, case version).
    await publish(
        harness.env["KAFKA_BOOTSTRAP_SERVERS"],
        first,
        first,
        envelope(opened),
        envelope(decided),
        envelope(decided),
    )
    notifications = pipeline["notifications"]
    await eventually(
        lambda: scalar(
            notifications,
            "SELECT count(*) FROM messages WHERE case_id = :c AND status = 'sent'",
            c=case_id,
        ),
        until=lambda n: n == 2,
        what="both messages sent",
    )
    # The decision again under a new id, behind the first envelope again on its partition: once
    # it is handled, both redeliveries have been, and any email they drafted is queued.
    again = envelope(decided)
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], first, again)
    await handled(notifications, again)
    await nothing_due(notifications, opened.return_id)
    mails = await asyncio.to_thread(messages_mentioning, harness.mail_dir, case_id)
    assert sorted(str(m["Subject"]).split("] ")[1][:12] for m in mails) == [
        "We have your",
        "Your claim a",
    ]
    assert (
        await scalar(notifications, "SELECT count(*) FROM messages WHERE case_id = :c", c=case_id)
        == 2
    )
    sent_events = await scalar(
        notifications,
        "SELECT count(*) FROM outbox WHERE ce_type = 'disputedesk.notifications.sent.v1' "
        "AND payload->>'case_id' = :c",
        c=case_id,
    )
    assert sent_events == 2
    assert decided.state == CaseState.DECIDED
