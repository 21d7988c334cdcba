"""The walking skeleton end to end: feed + partner webhook + escalation → acknowledgement email.

Real Kafka, real PostgreSQL, a real SMTP server; the four services run in this process.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.mail import html_part, messages_mentioning, text_part
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually


async def test_escalation_reaches_the_seller_as_an_acknowledgement_email(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    ret = return_body()
    rid = ret["return_id"]

    r = await intake.client.post(
        "/v1/returns", json=ret, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text

    body = swiftship_event(rid, "return.delivered")
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")),
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1

    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code == 201, r.text

    recon = pipeline["reconciliation"]
    case_id = await eventually(
        lambda: scalar(recon, "SELECT case_id FROM cases WHERE return_id = :r", r=rid),
        what="case opened",
    )
    mails = await eventually(
        lambda: asyncio.to_thread(messages_mentioning, harness.mail_dir, case_id),
        what="acknowledgement email in the sink",
    )
    assert len(mails) == 1
    mail = mails[0]
    assert case_id in mail["Subject"]
    assert mail["To"] == "seller.demo@example.com"
    assert rid in text_part(mail) and rid in html_part(mail)
    assert mail["Message-ID"].endswith("@disputedesk.dev>")

    # Every event on the way was scored, and the delivery was reported back on Kafka.
    fraud = pipeline["fraud"]
    assessed = await eventually(
        lambda: scalar(
            fraud, "SELECT count(*) FROM assessments WHERE return_id = :r AND revision = 0", r=rid
        ),
        until=lambda n: n == 3,
        what="three assessments (return, scan, escalation)",
    )
    assert assessed == 3
    notifications = pipeline["notifications"]
    # The delivery is recorded just after the SMTP server accepted the message: poll for it.
    sent = await eventually(
        lambda: scalar(
            notifications,
            "SELECT count(*) FROM outbox WHERE ce_type = 'disputedesk.notifications.sent.v1' "
            "AND payload->>'case_id' = :c",
            c=case_id,
        ),
        what="NotificationSent recorded",
    )
    assert sent == 1
