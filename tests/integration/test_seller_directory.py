"""The seller directory and what every seller hears, end to end: the marketplace keeps a
seller's profile in notifications, partner scans and seller filings go in through intake's
HTTP API, reconciliation opens, merges and refuses cases on the real topics, and the emails are
read back from the SMTP sink's `.eml` files."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from services.notifications.messages.rendering import india_time
from services.notifications.metrics import SELLER_UNTOLD
from tests.conftest import Harness
from tests.support.factories import escalation_body, return_body, uid
from tests.support.mail import messages_mentioning, text_part
from tests.support.scenario import (
    AGENT,
    case_of,
    feed_return_body,
    in_both,
    mails_about,
    mails_saying,
    put_seller,
    seller_address,
    seller_profile,
    send_swiftship_scan,
)
from tests.support.waiting import eventually

MARKETPLACE = "DISPUTEDESK_KEY_MARKETPLACE"
PORTAL = "DISPUTEDESK_KEY_SELLER_PORTAL"
PORTAL_SELLER = "S-DEMO-1"  # the development seller-portal key acts for this seller only
PROBLEM = "application/problem+json"

# The SOP tests' story steps, under the names this file's tests use.
_address = seller_address
_profile = seller_profile
_put_seller = put_seller
_scan = send_swiftship_scan
_case = case_of
_about = mails_saying
_mails = mails_about
_in_both = in_both


async def _feed(harness: Harness, intake: Any, seller_id: str, **over: Any) -> str:
    ret = return_body(seller_id=seller_id, partner_id="swiftship", **over)
    await feed_return_body(harness, intake, ret)
    return str(ret["return_id"])


async def _file(harness: Harness, intake: Any, rid: str, **over: Any) -> None:
    """Filed by the seller portal; by a desk agent after the seller's email when it names the
    address to answer (a portal key may not name one)."""
    key = PORTAL
    if "seller_email" in over:
        key, over = AGENT, {"channel": "EMAIL", **over}
    r = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid, **over), headers=harness.key(key)
    )
    assert r.status_code == 201, r.text


def _trigger(case: dict[str, Any]) -> str:
    opened = next(t for t in case["timeline"] if t["kind"] == "CaseOpened")
    return str(opened["data"]["trigger_rule"])


def _subjects(mails: list[Message]) -> list[str]:
    return [str(m["Subject"]) for m in mails]


async def test_p1_lost_parcel_tells_the_directory_seller_no_action_is_needed(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon, notifications = (
        pipeline[n] for n in ("intake", "reconciliation", "notifications")
    )
    seller, address = uid("S-DIR"), _address()
    await _put_seller(harness, notifications, seller, _profile(address))
    rid = await _feed(harness, intake, seller)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2))
    await _scan(harness, intake, rid, "return.lost", now - timedelta(days=1))
    case = await _case(harness, recon, rid, lambda c: c["origin"] == "PROACTIVE")
    assert _trigger(case) == "P1"

    [mail] = await _mails(harness, rid, "We spotted a problem")
    assert mail["To"] == address
    assert case["case_id"] in mail["Subject"] and "no action needed" in mail["Subject"]
    _in_both(mail, case["case_id"], "You do not need to file a claim or send anything")


async def test_p2_weight_drop_sends_the_directory_seller_the_checklist_and_the_window(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon, notifications = (
        pipeline[n] for n in ("intake", "reconciliation", "notifications")
    )
    seller, address = uid("S-DIR"), _address()
    await _put_seller(harness, notifications, seller, _profile(address))
    rid = await _feed(harness, intake, seller, qc_required=False)
    now = datetime.now(UTC)
    delivered = (now - timedelta(days=1)).replace(microsecond=0)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _scan(harness, intake, rid, "return.delivered", delivered, 0.9)
    case = await _case(harness, recon, rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    assert _trigger(case) == "P2"
    reply_by = datetime.fromisoformat(case["reply_by"])
    assert reply_by == delivered + timedelta(days=7)

    [mail] = await _mails(harness, rid, "Please send evidence")
    assert mail["To"] == address and "Please send evidence" in mail["Subject"]
    _in_both(
        mail,
        "we have opened case",
        case["case_id"],
        "An unboxing video",
        india_time(reply_by),
        "close the case without a payout",  # the desk opened it: no claim (P2)
    )
    # One email: the opening itself asks for nothing the checklist does not say.
    await asyncio.sleep(2)
    assert _subjects(messages_mentioning(harness.mail_dir, rid)) == [str(mail["Subject"])]


async def test_a_filing_merged_into_the_open_case_is_acknowledged_at_its_reply_address(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    seller = uid("S-MERGE")
    rid = await _feed(harness, intake, seller, qc_required=False)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _scan(harness, intake, rid, "return.delivered", now - timedelta(days=1), 0.9)
    case = await _case(harness, recon, rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    # The seller is not in the directory; the desk files for it after its email and names the
    # address it wrote from as the reply address for this case.
    reply_to = _address()
    await _file(
        harness,
        intake,
        rid,
        seller_id=seller,
        claim_type="MISSING_ITEM",
        seller_email=reply_to,
        evidence=[],
    )
    # The claim is judged at once (E4: its checklist), and that request is the filing's one
    # answer: it says the claim joined the case (no separate acknowledgement a moment before).
    [mail] = await _mails(harness, rid, "Please send evidence")
    assert mail["To"] == reply_to
    assert case["case_id"] in mail["Subject"] and rid in mail["Subject"]
    _in_both(mail, case["case_id"], "which we opened ourselves", "you do not need to file again")


async def test_a_duplicate_filing_hears_where_the_first_case_stands_and_its_next_date(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    reply_to = _address()
    rid = await _feed(harness, intake, PORTAL_SELLER, qc_required=False, item_value=180_000)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _scan(harness, intake, rid, "return.delivered", now - timedelta(days=1), 0.9)
    await _file(
        harness,
        intake,
        rid,
        claim_type="MISSING_ITEM",
        claimed_amount=150_000,
        received_weight_g=900,
        seller_email=reply_to,
    )
    case = await _case(harness, recon, rid, lambda c: c["state"] == "CLOSED")
    assert case["appeal_by"]
    appeal_by = datetime.fromisoformat(case["appeal_by"])

    await _file(harness, intake, rid, claimed_amount=150_000, seller_email=reply_to)
    [mail] = await _mails(harness, rid, "already has a case: here is where it stands")
    assert mail["To"] == reply_to and case["case_id"] in mail["Subject"]
    _in_both(mail, case["case_id"], "stands: it is", india_time(appeal_by), "appeal")
    assert "it is closed" in text_part(mail)
    assert "E2b" not in text_part(mail)  # no rule ids for sellers


async def test_a_seller_unknown_to_the_directory_is_told_once_its_address_arrives(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon, notifications = (
        pipeline[n] for n in ("intake", "reconciliation", "notifications")
    )
    seller, address = uid("S-NEW"), _address()
    untold_before = SELLER_UNTOLD.labels("acknowledgement")._value.get()
    rid = await _feed(harness, intake, seller)
    now = datetime.now(UTC)
    await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2))
    await _scan(harness, intake, rid, "return.lost", now - timedelta(days=1))

    # The desk opens the case, decides it (L1) and pays; the seller is told of none of it. The
    # case's timeline says so, once per email, and so does the metric.
    def untold(c: dict[str, Any]) -> list[str]:
        return [t["kind"] for t in c["timeline"] if "seller could not be told" in t["reason"]]

    case = await _case(
        harness, recon, rid, lambda c: c["state"] == "CLOSED" and len(untold(c)) == 3
    )
    assert untold(case) == ["EMAIL_FAILED"] * 3
    assert SELLER_UNTOLD.labels("acknowledgement")._value.get() == untold_before + 1
    assert messages_mentioning(harness.mail_dir, rid) == []

    # The marketplace adds the seller: the held emails that are still true go out, each once.
    # The opening's "we are on it, the outcome by ..." is not: the decision, held with it, is
    # the seller's news (it names the case and what happened to it).
    saved = await _put_seller(harness, notifications, seller, _profile(address))
    assert saved["released_messages"] == 2
    [decided] = await _mails(harness, rid, "approved in full")
    [settled] = await _mails(harness, rid, "is settled")
    assert decided["To"] == settled["To"] == address
    assert case["case_id"] in decided["Subject"]
    again = await _put_seller(harness, notifications, seller, _profile(address, language="hi"))
    assert (again["version"], again["released_messages"]) == (2, 0)
    await _case(
        harness,
        recon,
        rid,
        lambda c: [t["kind"] for t in c["timeline"]].count("EMAIL_SENT") == 2,
    )
    await asyncio.sleep(2)
    assert len(messages_mentioning(harness.mail_dir, rid)) == 2
    assert _about(harness, rid, "We spotted a problem") == []


async def test_directory_updates_are_versioned_with_who_changed_what(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller, address = uid("S-VER"), _address()
    path = f"/v1/sellers/{seller}"
    r = await notifications.client.put(
        path, json=_profile(address), headers=harness.key(MARKETPLACE)
    )
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["emails"]) == (1, [address])
    # The same profile again changes nothing: no new version.
    r = await notifications.client.put(
        path, json=_profile(address), headers=harness.key(MARKETPLACE)
    )
    assert (r.status_code, r.json()["version"]) == (200, 1)
    second = _address()
    r = await notifications.client.put(
        path, json=_profile(second, language="hi"), headers=harness.key(MARKETPLACE)
    )
    assert (r.status_code, r.json()["version"]) == (200, 2)
    history = r.json()["history"]
    assert [(h["version"], h["changed_by"]) for h in history] == [
        (2, "marketplace"),
        (1, "marketplace"),
    ]
    assert history[0]["changed_fields"] == ["emails", "language"]

    # The desk reads it with the addresses masked; the marketplace in full.
    r = await notifications.client.get(path, headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    assert r.json()["emails"] == [f"{second[0]}***@example.com"] and second not in r.text
    assert r.json()["phone"] == "***210"
    r = await notifications.client.get(path, headers=harness.key(MARKETPLACE))
    assert r.json()["emails"] == [second] and r.json()["language"] == "hi"

    r = await notifications.client.get(f"/v1/sellers/{uid('S-NONE')}", headers=harness.key(AGENT))
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)


async def test_directory_refuses_other_roles_and_bad_profiles_and_replays_a_key(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    seller = uid("S-BAD")
    path = f"/v1/sellers/{seller}"
    for env in (PORTAL, AGENT, "DISPUTEDESK_KEY_ADMIN"):
        r = await notifications.client.put(
            path, json=_profile(_address()), headers=harness.key(env)
        )
        assert r.status_code == 403, (env, r.text)
    r = await notifications.client.get(path, headers=harness.key(PORTAL))
    assert r.status_code == 403
    for bad in (
        _profile(_address(), language="fr"),
        _profile("not-an-address"),
        _profile(_address(), phone="98765"),
        _profile(_address(), nickname="x"),
        {**_profile(_address()), "emails": []},
    ):
        r = await notifications.client.put(path, json=bad, headers=harness.key(MARKETPLACE))
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
    key = {"Idempotency-Key": uuid.uuid4().hex, **harness.key(MARKETPLACE)}
    body = _profile(_address())
    first = await notifications.client.put(path, json=body, headers=key)
    replay = await notifications.client.put(path, json=body, headers=key)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert first.json() == replay.json()
    r = await notifications.client.put(path, json=_profile(_address()), headers=key)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text


async def test_outreach_after_a_low_rating_follows_the_directory_and_its_preferences(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, notifications = pipeline["intake"], pipeline["notifications"]
    welcome, declined = uid("S-FB"), uid("S-FB")
    welcome_at, declined_at = _address(), _address()
    await _put_seller(harness, notifications, welcome, _profile(welcome_at))
    await _put_seller(
        harness,
        notifications,
        declined,
        _profile(declined_at, preferences={"feedback_outreach": False}),
    )
    for seller in (declined, welcome):
        r = await intake.client.post(
            "/v1/seller-feedback",
            json={"seller_id": seller, "rating": 1, "text": "Nobody answered my claim."},
            headers=harness.key(MARKETPLACE),
        )
        assert r.status_code in (201, 202), r.text
    # No address came with the feedback: the directory's is used, for the seller who wants it.
    [mail] = await eventually(
        lambda: asyncio.to_thread(messages_mentioning, harness.mail_dir, welcome_at),
        until=lambda found: len(found) >= 1,
        what="outreach to the directory address",
    )
    assert mail["To"] == welcome_at
    await asyncio.sleep(2)  # the declined seller's feedback went first; nothing came of it
    assert messages_mentioning(harness.mail_dir, declined_at) == []
