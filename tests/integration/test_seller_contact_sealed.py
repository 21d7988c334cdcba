"""A seller's address crosses the system sealed: not on Kafka, not in intake's, fraud's or
reconciliation's database, not in a log line; and the seller still gets every email.

Real Kafka (the raw bytes of the topics), PostgreSQL and SMTP sink; the four services run in
this process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from tests.conftest import Harness
from tests.support.db import rows
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.mail import messages_mentioning
from tests.support.notifications import contact_opener
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually


async def _raw_records(
    harness: Harness, topic: str, key: str, until: int, *, having: bytes = b""
) -> list[Any]:
    """The records of `topic` keyed `key` (whose bytes hold `having`), read from the broker."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=harness.env["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=f"test-raw-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Any] = []

    async def probe() -> list[Any]:
        batch = await consumer.getmany(timeout_ms=500, max_records=5000)
        found.extend(
            r
            for records in batch.values()
            for r in records
            if r.key == key.encode() and having in r.value
        )
        return found

    try:
        await eventually(probe, until=lambda f: len(f) >= until, timeout=60, what=f"{topic}")
    finally:
        await consumer.stop()
    return found


async def _tables_mentioning(service: Any, needle: str) -> list[str]:
    """Tables of the service's database with a row whose text holds `needle`."""
    tables = [
        name
        for (name,) in await rows(
            service,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
    ]
    found = []
    async with service.runtime.sessionmaker() as session:
        for table in tables:
            hit = await session.scalar(
                text(f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE :x'),
                {"x": f"%{needle}%"},
            )
            if hit:
                found.append(table)
    return found


async def test_the_address_travels_sealed_and_the_seller_still_gets_the_emails(
    harness: Harness, pipeline: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    address = f"{uid('seller').lower()}@sealed.example.com"
    # A seller of its own, not in the directory: every email it gets goes to the named address.
    seller = uid("S-SEALED")
    ret = return_body(qc_required=False, item_value=180_000, seller_id=seller)
    rid = ret["return_id"]
    r = await intake.client.post(
        "/v1/returns", json=ret, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    now = datetime.now(UTC)
    for event, at, kg in (
        ("return.picked_up", now - timedelta(days=2), 1.2),
        ("return.delivered", now - timedelta(days=1), 0.9),
    ):
        body = swiftship_event(rid, event, at=at.isoformat(), weight_kg=kg)
        r = await intake.client.post(
            "/v1/webhooks/swiftship",
            content=body,
            headers=swiftship_headers(
                harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")
            ),
        )
        assert r.status_code == 202, r.text
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(
            rid,
            claim_type="MISSING_ITEM",
            claimed_amount=150_000,
            received_weight_g=900,
            seller_id=seller,
            channel="EMAIL",
            seller_email=address,
        ),
        # The desk names the address the seller wrote from (a portal key may not name one).
        headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT"),
    )
    assert r.status_code == 201, r.text
    assert address not in r.text

    # The seller hears the decision at that address. (The weight drop opened a proactive case
    # before the claim came, so that case's first emails had no seller to go to.)
    mails = await eventually(
        lambda: asyncio.to_thread(messages_mentioning, harness.mail_dir, rid),
        until=lambda found: any("approved" in str(m["Subject"]) for m in found),
        timeout=60,
        what="decision email",
    )
    assert [m["To"] for m in mails] == [address] * len(mails)

    # On the wire: the escalation carries a sealed token, never an address.
    [escalation] = [
        rec
        for rec in await _raw_records(harness, "intake.returns.v1", rid, until=4)
        if dict(rec.headers)["ce_type"] == b"disputedesk.intake.seller_escalation_filed.v1"
    ]
    assert b"@" not in escalation.value
    sealed = json.loads(escalation.value)["seller_contact"]
    assert sealed.startswith("sc1.") and "seller_email" not in json.loads(escalation.value)
    assert contact_opener().unseal(sealed) == address
    case_records = await _raw_records(harness, "reconciliation.cases.v1", rid, until=3)
    for rec in case_records:
        assert address.encode() not in rec.value
        assert b"seller_email" not in rec.value
    assert any(json.loads(r.value).get("seller_contact") for r in case_records)

    # At rest: no database but notifications' (which sends) holds the address.
    for name in ("intake", "fraud", "reconciliation"):
        assert await _tables_mentioning(pipeline[name], address) == [], name
    assert await _tables_mentioning(pipeline["notifications"], address) != []
    r = await recon.client.get(
        "/v1/cases", params={"return_id": rid}, headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    )
    [case] = r.json()["items"]
    r = await recon.client.get(
        f"/v1/cases/{case['case_id']}", headers=harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    )
    assert address not in r.text and "sc1." not in r.text
    assert r.json()["facts"]["escalations"][0]["seller_contact_on_file"] is True
    history = await intake.client.get(
        f"/v1/returns/{rid}/events", headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    )
    assert history.status_code == 200 and address not in history.text

    # Nor in any log record any service wrote on the way (before the scrubber, too).
    for record in caplog.records:
        assert address not in record.getMessage(), record.name
        assert address not in repr(record.__dict__), record.name


async def test_feedback_outreach_reaches_the_sealed_address(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    address = f"{uid('unhappy').lower()}@sealed.example.com"
    seller = uid("S-UNHAPPY")  # its own: the outreach is limited per seller and day
    r = await intake.client.post(
        "/v1/seller-feedback",
        json={
            "seller_id": seller,
            "rating": 1,
            "text": "Nobody explained the rejection.",
            "seller_email": address,
        },
        # The marketplace relays its seller's rating with the contact it holds.
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code in (201, 202), r.text
    feedback_id = r.json()["feedback_id"]
    [record] = await _raw_records(
        harness, "intake.seller-feedback.v1", seller, until=1, having=feedback_id.encode()
    )
    assert b"@" not in record.value and json.loads(record.value)["seller_contact"]
    mails = await eventually(
        lambda: asyncio.to_thread(messages_mentioning, harness.mail_dir, address),
        what="outreach email",
        timeout=60,
    )
    assert [m["To"] for m in mails] == [address]
    assert await _tables_mentioning(intake, address) == []
