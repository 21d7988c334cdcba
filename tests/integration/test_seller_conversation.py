"""Every seller-visible change is told once, end to end: requests go in through intake's and
reconciliation's HTTP APIs, the case moves on the real topics, and the emails are read back from
the SMTP sink's `.eml` files (settlement with its payment reference, appeal received, the
evidence reminder on its timer and its cancellation, logged calls in the next email)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.notifications.messages.composing import payment_reference
from services.notifications.messages.rendering import india_time
from shared.money import rupees as inr
from tests.conftest import Harness
from tests.integration.test_seller_directory import (
    AGENT,
    PORTAL,
    PORTAL_SELLER,
    _address,
    _case,
    _feed,
    _in_both,
    _mails,
    _profile,
    _put_seller,
    _scan,
    _subjects,
)
from tests.support.factories import escalation_body, uid
from tests.support.mail import messages_mentioning, text_part

MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"


def _kinds(case: dict[str, Any]) -> list[str]:
    return [t["kind"] for t in case["timeline"]]


async def _p2_case(
    harness: Harness, pipeline: dict[str, Any], seller: str, *, delivered: datetime
) -> tuple[str, dict[str, Any]]:
    """A weight drop on delivery: the desk opens a case itself and asks for evidence (P2)."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = await _feed(harness, intake, seller, qc_required=False, item_value=90_000)
    await _scan(harness, intake, rid, "return.picked_up", delivered - timedelta(days=1), 1.2)
    await _scan(harness, intake, rid, "return.delivered", delivered, 0.9)
    case = await _case(harness, recon, rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    return rid, case


async def test_a_paid_claim_is_settled_with_its_payment_reference_and_an_appeal_is_acknowledged(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    reply_to = _address()
    rid = await _feed(harness, intake, PORTAL_SELLER, qc_required=False, item_value=180_000)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _scan(harness, intake, rid, "return.delivered", now - timedelta(days=1), 0.9)
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(
            rid,
            claim_type="MISSING_ITEM",
            claimed_amount=150_000,
            received_weight_g=900,
            seller_email=reply_to,
        ),
        headers=harness.key(PORTAL),
    )
    assert r.status_code == 201, r.text
    escalation_id = r.json()["escalation_id"]
    case = await _case(harness, recon, rid, lambda c: c["state"] == "CLOSED")
    payout = case["payout"]
    assert payout > 0
    # The reference is the ledger's own settlement transaction, as finance sees it.
    r = await recon.client.get(
        f"/v1/ledger/cases/{case['case_id']}", headers=harness.key("DISPUTEDESK_KEY_FINANCE")
    )
    [settlement] = [t for t in r.json()["transactions"] if t["kind"] == "SETTLEMENT"]
    reference = payment_reference(UUID(settlement["transaction_id"]))

    [mail] = await _mails(harness, rid, "is settled: payment reference")
    assert mail["To"] == reply_to and case["case_id"] in mail["Subject"]
    _in_both(mail, reference, inr(payout), case["case_id"])

    r = await intake.client.post(
        f"/v1/escalations/{escalation_id}/appeal",
        json={"reason": "The weight the partner recorded at delivery is wrong."},
        headers=harness.key(PORTAL),
    )
    assert r.status_code == 201, r.text
    [appeal] = await _mails(harness, rid, "We have your appeal")
    assert appeal["To"] == reply_to and case["case_id"] in appeal["Subject"]
    _in_both(appeal, "did not take the first decision", "We will write to you with the result")

    # Each change was told once: the filing joining the desk's own case (by its acknowledgement,
    # sent with the decision when that came first; an evidence request would have replaced it),
    # the decision, the settlement, the appeal received.
    # The desk's own P2 request, sent before the claim came, went to the seller's directory
    # address (the test pipeline registers this seller's, as a marketplace would): at most it,
    # and only it, went there; from the filing on, the case writes to the filing's address.
    await asyncio.sleep(2)
    mails = messages_mentioning(harness.mail_dir, rid)
    elsewhere = _subjects([m for m in mails if m["To"] != reply_to])
    assert len(elsewhere) <= 1 and all("Please send evidence" in s for s in elsewhere), elsewhere
    subjects = _subjects([m for m in mails if m["To"] == reply_to])
    joined = sum("joins the case already open" in s for s in subjects)
    assert joined <= 1 and len(subjects) == 3 + joined, subjects
    assert sum("approved in full" in s for s in subjects) == 1
    assert sum("is settled" in s for s in subjects) == 1
    assert sum("We have your appeal" in s for s in subjects) == 1
    # The filing's acknowledgement was not lost: sent, or superseded by a later version's
    # message that was itself sent: an answer to the filing (the decision, or an evidence
    # request), or the acknowledgement reworded once the case left the wait for evidence.
    r = await pipeline["notifications"].client.get(
        f"/v1/cases/{case['case_id']}/conversation", headers=harness.key(AGENT)
    )
    assert r.status_code == 200, r.text
    out = [e for e in r.json()["entries"] if e["direction"] == "out"]
    acks = [e for e in out if e["template"] == "merge_acknowledgement"]
    assert sum(e["delivery"] == "sent" for e in acks) <= 1, acks
    ack = min(acks, key=lambda e: e["case_version"])
    if ack["delivery"] != "sent":
        assert ack["delivery"] == "superseded", ack
        assert any(
            e["template"] in ("decision", "evidence_request", "merge_acknowledgement")
            and e["delivery"] == "sent"
            and e["case_version"] > ack["case_version"]
            for e in out
        ), out


async def test_the_evidence_reminder_goes_once_before_reply_by_and_not_after_evidence(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller, address = uid("S-REM"), _address()
    await _put_seller(harness, notifications, seller, _profile(address))
    # Reply-by is 7 days after delivery, the reminder 24 hours before that: seconds from now.
    delivered = datetime.now(UTC).replace(microsecond=0) - timedelta(days=6) + timedelta(seconds=20)
    rid, case = await _p2_case(harness, pipeline, seller, delivered=delivered)
    reply_by = datetime.fromisoformat(case["reply_by"])
    [request] = await _mails(harness, rid, "Please send evidence")
    assert "Reminder" not in str(request["Subject"])
    [reminder] = await _mails(harness, rid, "Reminder: evidence", timeout=90)
    assert reminder["To"] == address and case["case_id"] in reminder["Subject"]
    _in_both(reminder, india_time(reply_by), "An unboxing video", "ignore this reminder")

    await asyncio.sleep(3)
    assert len(_about_reminder(harness, rid)) == 1  # once, whatever the dispatcher's rounds


def _about_reminder(harness: Harness, rid: str) -> list[Any]:
    return [
        m
        for m in messages_mentioning(harness.mail_dir, rid)
        if "Reminder: evidence" in str(m["Subject"])
    ]


async def test_a_decision_before_the_reminder_cancels_it_and_carries_the_logged_call(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon, notifications = pipeline["reconciliation"], pipeline["notifications"]
    seller, address = uid("S-CALL"), _address()
    await _put_seller(
        harness,
        notifications,
        seller,
        _profile(address, preferences={"call_summaries": True}),
    )
    delivered = datetime.now(UTC).replace(microsecond=0) - timedelta(days=6) + timedelta(seconds=25)
    rid, case = await _p2_case(harness, pipeline, seller, delivered=delivered)
    cid = case["case_id"]
    await _mails(harness, rid, "Please send evidence")
    r = await recon.client.post(
        f"/v1/cases/{cid}/calls",
        json={
            "direction": "INBOUND",
            "counterpart": "SELLER",
            "duration_s": 185,
            "summary": "Seller says the parcel tape was resealed; will send photos.",
        },
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    r = await recon.client.post(
        f"/v1/cases/{cid}/decision",
        json={
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "reason": "The partner's own scans show the weight drop in transit.",
        },
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text

    [decision] = await _mails(harness, rid, "approved in full")
    assert decision["To"] == address
    _in_both(decision, "Your calls with us about this case", "tape was resealed")
    # The reminder was due 24 hours before reply-by, seconds from the request: it never goes.
    remind_at = delivered + timedelta(days=6)
    await asyncio.sleep(max(0.0, (remind_at - datetime.now(UTC)).total_seconds()) + 8)
    assert _about_reminder(harness, rid) == []
    # The call is told once: the settlement that followed does not repeat it.
    [settled] = await _mails(harness, rid, "is settled")
    assert "Your calls with us" not in text_part(settled)


async def test_a_seller_who_reads_hindi_gets_its_decision_in_hindi(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon, notifications = (
        pipeline[n] for n in ("intake", "reconciliation", "notifications")
    )
    seller, address = uid("S-HI"), _address()
    await _put_seller(harness, notifications, seller, _profile(address, language="hi"))
    rid = await _feed(harness, intake, seller, item_value=1_234_500)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2))
    await _scan(harness, intake, rid, "return.lost", now - timedelta(days=1))
    case = await _case(harness, recon, rid, lambda c: c["state"] == "CLOSED")

    [mail] = await _mails(harness, rid, "पूरा स्वीकृत")
    assert mail["To"] == address and case["case_id"] in mail["Subject"]
    assert inr(case["payout"]) in str(mail["Subject"]) and "₹12,345.00" in str(mail["Subject"])
    _in_both(mail, "नमस्ते", "हम आपको यह राशि देंगे", "सादर")
    assert "approved" not in text_part(mail) and "Warm regards" not in text_part(mail)
    # The settlement and the opening speak Hindi too.
    [settled] = await _mails(harness, rid, "भुगतान संदर्भ")
    assert "भुगतान संदर्भ: DD-" in text_part(settled)
