"""A seller's held emails, released late, say what is still true: the seller directory learns
the address after the case has moved on (the decision made, its appeal window closed, a reply-by
gone), and every email the seller then receives is read back from the SMTP sink. Events are
published on the real topic as reconciliation publishes them at the moments of the story (the
appeal window cannot be waited out), and the address arrives through the directory's API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications.catalogue import samples
from services.notifications.messages.rendering import india_time
from shared.events import CaseDecided, CaseOpened, EvidenceRequested
from tests.conftest import Harness
from tests.support.db import rows
from tests.support.factories import uid
from tests.support.mail import messages_mentioning, text_part
from tests.support.notifications import envelope, publish
from tests.support.scenario import (
    in_both,
    mails_about,
    put_seller,
    seller_address,
    seller_profile,
)
from tests.support.waiting import eventually


async def _held(harness: Harness, notifications: Any, rid: str, count: int) -> None:
    """Wait until notifications holds `count` messages about the return (no address yet)."""

    async def held() -> int:
        found = await rows(
            notifications,
            "SELECT message_id FROM messages WHERE return_id = :r AND status = 'held'",
            r=rid,
        )
        return len(found)

    await eventually(held, until=lambda n: n == count, timeout=60, what=f"{count} held for {rid}")


async def _statuses(notifications: Any, rid: str) -> dict[str, str]:
    found = await rows(
        notifications,
        "SELECT template, status FROM messages WHERE return_id = :r AND audience = 'seller'",
        r=rid,
    )
    return {str(r.template): str(r.status) for r in found}


def _story(
    seller: str, rid: str, opened_at: datetime, decided_at: datetime
) -> tuple[CaseOpened, EvidenceRequested, CaseDecided]:
    """A damage claim of a seller the directory does not know, filed without an address:
    acknowledged, asked for evidence, decided (L6) on it."""
    case_id = uid("CASE")
    who = {"seller_id": seller, "return_id": rid, "seller_email": None}
    return (
        samples.case_opened(case_id, opened_at, **who),
        samples.evidence_requested(case_id, opened_at + timedelta(minutes=1), **who),
        samples.case_decided(case_id, decided_at, **who),
    )


async def test_after_the_decision_the_seller_gets_the_decision_not_the_promises_before_it(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller, rid, to = uid("S-LATE"), uid("RET"), seller_address()
    now = datetime.now(UTC).replace(microsecond=0)
    opened, asked, decided = _story(seller, rid, now - timedelta(days=3), now - timedelta(days=2))
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], *map(envelope, (opened, asked, decided)))
    await _held(harness, notifications, rid, 3)

    saved = await put_seller(harness, notifications, seller, seller_profile(to))
    assert saved["released_messages"] == 1
    [mail] = await mails_about(harness, rid, "is approved in full")
    assert mail["To"] == to and decided.case_id in mail["Subject"]
    # Inside the window: the appeal-by is still true and offered as it was.
    in_both(mail, india_time(decided.appeal_by))
    assert "appeal this decision until" in text_part(mail)
    await asyncio.sleep(2)
    # "We will decide by ..." and "send your evidence by ..." about a case decided two days ago
    # are not the seller's news: the decision is.
    assert len(messages_mentioning(harness.mail_dir, rid)) == 1
    assert await _statuses(notifications, rid) == {
        "acknowledgement": "superseded",
        "evidence_request": "superseded",
        "decision": "sent",
    }


async def test_after_the_appeal_window_the_decision_says_it_closed_and_the_decision_stands(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller, rid, to = uid("S-LATE"), uid("RET"), seller_address()
    now = datetime.now(UTC).replace(microsecond=0)
    opened, asked, decided = _story(seller, rid, now - timedelta(days=12), now - timedelta(days=10))
    assert decided.appeal_by is not None and decided.appeal_by < now
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], *map(envelope, (opened, asked, decided)))
    await _held(harness, notifications, rid, 3)

    saved = await put_seller(harness, notifications, seller, seller_profile(to))
    assert saved["released_messages"] == 1
    [mail] = await mails_about(harness, rid, "is approved in full")
    assert mail["To"] == to
    # The outcome and the amount still reach the seller; the appeal offer does not.
    in_both(mail, "The decision stands", india_time(decided.appeal_by))
    assert "appeal this decision until" not in text_part(mail), text_part(mail)
    assert "can appeal" not in text_part(mail)


async def test_before_the_decision_a_request_past_its_reply_by_is_not_sent(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller, rid, to = uid("S-LATE"), uid("RET"), seller_address()
    now = datetime.now(UTC).replace(microsecond=0)
    opened, asked, _ = _story(seller, rid, now - timedelta(days=4), now)
    assert asked.reply_by < now
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], *map(envelope, (opened, asked)))
    await _held(harness, notifications, rid, 2)

    saved = await put_seller(harness, notifications, seller, seller_profile(to))
    assert saved["released_messages"] == 1
    [ack] = await mails_about(harness, rid, "We have your claim")
    assert ack["To"] == to
    await asyncio.sleep(2)
    # A request for evidence by a time already gone would ask the impossible.
    assert len(messages_mentioning(harness.mail_dir, rid)) == 1
    assert (await _statuses(notifications, rid))["evidence_request"] == "cancelled"


async def test_before_the_decision_held_emails_go_out_in_the_cases_order(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller, rid, to = uid("S-LATE"), uid("RET"), seller_address()
    now = datetime.now(UTC).replace(microsecond=0)
    opened, asked, _ = _story(seller, rid, now - timedelta(hours=2), now)
    # Published the other way round: the request's row (and its reminder's, due a day before
    # the reply-by) is written first.
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], envelope(asked))
    await _held(harness, notifications, rid, 2)
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], envelope(opened))
    await _held(harness, notifications, rid, 3)

    saved = await put_seller(harness, notifications, seller, seller_profile(to))
    assert saved["released_messages"] == 3  # the reminder keeps its own time
    await mails_about(harness, rid, "We have your claim")
    await mails_about(harness, rid, "Please send evidence")
    # The sink names each email by its arrival: the acknowledgement first, then the request.
    arrived = [str(m["Subject"]) for m in messages_mentioning(harness.mail_dir, rid)]
    assert len(arrived) == 2 and "We have your claim" in arrived[0], arrived
    assert "Please send evidence" in arrived[1], arrived
