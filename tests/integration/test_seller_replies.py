"""Seller replies come back in, end to end on the real stack: our email carries a signed
Reply-To; the seller's reply goes through the local mail sink (SMTP), which relays it to
notifications' reply listener; the text lands on the case's timeline without the quoted
history, the attachments become evidence through the same event the portal uses, and the case
waiting for evidence moves on. A forged token and an auto-reply change nothing."""

from __future__ import annotations

import asyncio
import io
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from PIL import Image

from services.notifications.messages.rendering import india_time
from services.notifications.reply_tokens import mac
from tests.conftest import Harness
from tests.integration.test_seller_directory import (
    AGENT,
    MARKETPLACE,
    PROBLEM,
    _address,
    _case,
    _feed,
    _mails,
    _profile,
    _put_seller,
    _scan,
)
from tests.support.factories import escalation_body, uid
from tests.support.mail import messages_mentioning, text_part
from tests.support.waiting import eventually

ADMIN = "DISPUTEDESK_KEY_ADMIN"
REPLY_DOMAIN = "replies.disputedesk.dev"


def _png() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    for x in range(32):
        for y in range(48):
            image.putpixel((x, y), (20, 20, 200))
    image.save(out, format="PNG")
    return out.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def _reply(
    sender: str, to: str, subject: str, *, quoted: str, attachments: bool = True
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = f"Re: {subject}"
    mail["Message-ID"] = f"<{uid('reply')}@seller.example>"
    mail.set_content(
        "Here is the unboxing video and a photo of the parcel. It weighed 900 g when it "
        "reached me.\n\n"
        f"On Tue, 1 Dec 2026 at 10:00, Seller Dispute Desk wrote:\n> {quoted}\n"
    )
    if attachments:
        mail.add_attachment(_png(), maintype="image", subtype="png", filename="parcel.png")
        mail.add_attachment(MP4, maintype="video", subtype="mp4", filename="unboxing.mp4")
        mail.add_attachment(
            b"MZ\x90\x00 not really a program",
            maintype="application",
            subtype="octet-stream",
            filename="invoice.exe",
        )
    return mail


def _send_through_the_sink(harness: Harness, mail: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", int(harness.env["SMTP_PORT"]), timeout=30) as client:
        client.send_message(mail)


async def _p2(harness: Harness, pipeline: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    intake, recon, notifications = (
        pipeline[n] for n in ("intake", "reconciliation", "notifications")
    )
    seller, address = uid("S-REPLY"), _address()
    await _put_seller(harness, notifications, seller, _profile(address))
    rid = await _feed(harness, intake, seller, qc_required=False, item_value=90_000)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _scan(harness, intake, rid, "return.delivered", now - timedelta(days=1), 0.9)
    case = await _case(harness, recon, rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    return rid, address, case


async def _claim_waiting_for_evidence(
    harness: Harness, pipeline: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    """A damage claim filed without evidence: the desk asks for the checklist."""
    intake, recon, notifications = (
        pipeline[n] for n in ("intake", "reconciliation", "notifications")
    )
    seller, address = uid("S-REPLY"), _address()
    await _put_seller(harness, notifications, seller, _profile(address))
    rid = await _feed(harness, intake, seller, qc_required=False, item_value=90_000)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _scan(harness, intake, rid, "return.delivered", now - timedelta(days=1), 1.2)
    body = escalation_body(
        rid, seller_id=seller, claimed_amount=90_000, evidence=[], channel="EMAIL"
    )
    # No address named: the directory's is where the desk writes.
    r = await intake.client.post("/v1/escalations", json=body, headers=harness.key(AGENT))
    assert r.status_code == 201, r.text
    case = await _case(harness, recon, rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    return rid, address, case


async def test_a_reply_with_attachments_through_the_local_mail_path_resumes_the_case(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon, notifications = pipeline["reconciliation"], pipeline["notifications"]
    rid, address, case = await _claim_waiting_for_evidence(harness, pipeline)
    cid = case["case_id"]
    [request] = await _mails(harness, rid, "Please send evidence")
    reply_to = str(request["Reply-To"])
    assert reply_to.startswith(f"reply+{cid.lower()}.") and reply_to.endswith("@" + REPLY_DOMAIN)

    mail = _reply(address, reply_to, str(request["Subject"]), quoted="Please send evidence")
    await asyncio.to_thread(_send_through_the_sink, harness, mail)

    def seller_message(c: dict[str, Any]) -> dict[str, Any] | None:
        return next((t for t in c["timeline"] if t["kind"] == "SELLER_MESSAGE"), None)

    case = await _case(
        harness,
        recon,
        rid,
        lambda c: seller_message(c) is not None and c["state"] != "AWAITING_EVIDENCE",
    )
    said = seller_message(case)
    assert said is not None
    assert said["reason"] == (
        "Here is the unboxing video and a photo of the parcel. It weighed 900 g when it reached me."
    )
    files = {a["filename"]: a for a in said["data"]["attachments"]}
    assert files["parcel.png"]["accepted"] and files["unboxing.mp4"]["accepted"]
    assert (
        files["parcel.png"]["perceptual_hash"] and files["unboxing.mp4"]["perceptual_hash"] is None
    )
    assert len(files["parcel.png"]["sha256"]) == 64
    assert not files["invoice.exe"]["accepted"]
    assert "executable" in files["invoice.exe"]["refused_because"]
    # The same path as the portal's evidence: EvidenceAdded, then the SOP moves the case on.
    added = [t for t in case["timeline"] if t["kind"] == "CaseUpdated"]
    assert any(t["data"]["event"]["change"] == "EVIDENCE_ADDED" for t in added), added

    # The desk sees the conversation, out and in, and the reply as unread until read.
    agent = harness.key(AGENT)
    r = await notifications.client.get(f"/v1/cases/{cid}/conversation", headers=agent)
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert [e["direction"] for e in entries][:1] == ["out"]
    assert entries[0]["delivery"] == "sent"
    [inbound] = [e for e in entries if e["direction"] == "in"]
    assert inbound["read"] is False and "quoted" not in inbound["text"]
    r = await notifications.client.get("/v1/conversations/unread", headers=agent)
    assert cid in [c["case_id"] for c in r.json()["items"]]
    r = await notifications.client.post(f"/v1/cases/{cid}/conversation/read", headers=agent)
    assert r.json()["marked_read"] == 1
    r = await notifications.client.get("/v1/conversations/unread", headers=agent)
    assert cid not in [c["case_id"] for c in r.json()["items"]]


async def test_a_forged_token_goes_to_triage_and_touches_no_case(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon, notifications = pipeline["reconciliation"], pipeline["notifications"]
    rid, address, case = await _p2(harness, pipeline)
    cid = case["case_id"]
    await _mails(harness, rid, "Please send evidence")
    # Another seller forges a token for this case: right shape, MAC made with its own id.
    forged = f"reply+{cid.lower()}.{mac(cid, 'S-INTRUDER', 'guessed-key')}@{REPLY_DOMAIN}"
    mail = _reply("intruder@example.com", forged, f"[{cid}] evidence", quoted="x")
    raw = mail.as_bytes()
    r = await notifications.client.post(
        "/v1/inbound/email",
        content=raw,
        headers={**harness.key(ADMIN), "content-type": "message/rfc822"},
    )
    assert r.status_code == 202, r.text
    out = r.json()
    assert (out["status"], out["token"], out["case_id"]) == ("triage", "invalid", None)
    assert out["candidate_case_id"] == cid and out["confidence"] <= 0.5
    assert "reply token invalid" in out["match_reasons"]
    r = await notifications.client.get("/v1/inbound/triage", headers=harness.key(AGENT))
    assert out["reply_id"] in [t["reply_id"] for t in r.json()["items"]]
    # The same message again is the same record; other roles and other bodies are refused.
    again = await notifications.client.post(
        "/v1/inbound/email",
        content=raw,
        headers={**harness.key(ADMIN), "content-type": "message/rfc822"},
    )
    assert again.json()["reply_id"] == out["reply_id"]
    r = await notifications.client.post(
        "/v1/inbound/email",
        content=raw,
        headers={**harness.key(AGENT), "content-type": "message/rfc822"},
    )
    assert r.status_code == 403
    r = await notifications.client.post(
        "/v1/inbound/email", json={"raw": "x"}, headers=harness.key(ADMIN)
    )
    assert r.status_code == 415 and r.headers["content-type"].startswith(PROBLEM)

    await asyncio.sleep(3)
    r = await recon.client.get(f"/v1/cases/{cid}", headers=harness.key(AGENT))
    kinds = [t["kind"] for t in r.json()["timeline"]]
    assert "SELLER_MESSAGE" not in kinds and r.json()["state"] == "AWAITING_EVIDENCE"


async def test_an_auto_reply_changes_nothing_and_a_bounce_marks_the_address_failing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon, notifications = pipeline["reconciliation"], pipeline["notifications"]
    rid, address, case = await _p2(harness, pipeline)
    cid = case["case_id"]
    [request] = await _mails(harness, rid, "Please send evidence")
    reply_to = str(request["Reply-To"])
    ooo = _reply(address, reply_to, "Out of office", quoted="x")
    ooo["Auto-Submitted"] = "auto-replied"
    await asyncio.to_thread(_send_through_the_sink, harness, ooo)
    sent_before = len(messages_mentioning(harness.mail_dir, rid))

    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mx.example"
    bounce["To"] = reply_to
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = f"<{uid('dsn')}@mx.example>"
    bounce.set_content("Your message could not be delivered.")
    bounce.add_attachment(
        f"Message-ID: {request['Message-ID']}\r\nSubject: evidence\r\n".encode(),
        maintype="text",
        subtype="rfc822-headers",
    )
    bounce.replace_header(
        "Content-Type", bounce.get_content_type() + "; report-type=delivery-status"
    )
    r = await notifications.client.post(
        "/v1/inbound/email",
        content=bounce.as_bytes(),
        headers={**harness.key(ADMIN), "content-type": "message/rfc822"},
    )
    assert r.status_code == 202, r.text
    assert (r.json()["kind"], r.json()["status"]) == ("bounce", "ignored")

    async def failing() -> list[str]:
        r = await notifications.client.get(
            f"/v1/sellers/{case['seller_id']}", headers=harness.key(MARKETPLACE)
        )
        return list(r.json().get("failing_emails", []))

    assert await eventually(failing, until=lambda f: f == [address], what="address failing")

    await asyncio.sleep(3)
    r = await recon.client.get(f"/v1/cases/{cid}", headers=harness.key(AGENT))
    kinds = [t["kind"] for t in r.json()["timeline"]]
    assert "SELLER_MESSAGE" not in kinds and "EVIDENCE_ADDED" not in str(r.json()["timeline"])
    assert r.json()["state"] == "AWAITING_EVIDENCE"
    # No answer to a machine: nothing new was sent about the return.
    assert len(messages_mentioning(harness.mail_dir, rid)) == sent_before


async def test_a_weight_drop_case_the_desk_opened_is_decided_on_the_evidence_replied_with(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """P2: the desk opened the case and asked its seller for the weight-drop checklist (an
    unboxing video and the weight as received). The seller replies with both, without filing a
    claim: the case is decided on them (the partner's weight drop, L6) and the seller told, not
    left waiting for a claim until the window closes."""
    recon = pipeline["reconciliation"]
    rid, address, case = await _p2(harness, pipeline)
    [request] = await _mails(harness, rid, "Please send evidence")
    mail = _reply(
        address, str(request["Reply-To"]), str(request["Subject"]), quoted="Please send evidence"
    )
    await asyncio.to_thread(_send_through_the_sink, harness, mail)
    case = await _case(harness, recon, rid, lambda c: c["decision"] is not None)
    assert (case["decision"]["rule_id"], case["payout"]) == ("L6", 90_000), case["decision"]
    [decided] = await _mails(harness, rid, "approved in full")
    assert decided["To"] == address
    # One request, the first; the seller's own reply sits in the sink beside it.
    asks = await _mails(harness, rid, "Please send evidence")
    assert len([m for m in asks if m["To"] == address]) == 1


async def test_evidence_that_leaves_a_weight_drop_checklist_unmet_is_answered(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """P2: the seller replies with a photo only; the case still needs the unboxing video and
    the weight, and the seller is told what reached us and what is missing, by the same date."""
    rid, address, case = await _p2(harness, pipeline)
    [request] = await _mails(harness, rid, "Please send evidence")
    mail = EmailMessage()
    mail["From"], mail["To"] = address, str(request["Reply-To"])
    mail["Subject"] = f"Re: {request['Subject']}"
    mail["Message-ID"] = f"<{uid('reply')}@seller.example>"
    mail.set_content("Here is a photo of what came back.")
    mail.add_attachment(_png(), maintype="image", subtype="png", filename="parcel.png")
    await asyncio.to_thread(_send_through_the_sink, harness, mail)
    # The first request, the seller's reply (kept by the sink too), and the answer.
    mails = await _mails(harness, rid, "Please send evidence", count=3, timeout=90)
    [answer] = [m for m in mails if "Thank you for the evidence you have sent" in text_part(m)]
    assert answer["To"] == address
    text = text_part(answer)
    assert "So far we have received: 1 photo of the item." in text, text
    assert "An unboxing video" in text, text
    assert india_time(datetime.fromisoformat(case["reply_by"])) in text, text
