"""SOP v1 combinations a scenario writer tries beside the rule-by-rule paths: a partner's repeated
terminal scans, a scan arriving after the decision, amounts in odd paise and at the approval cap.
Each is driven through intake's HTTP API and the partner's webhook on the test stack; the case,
its ledger and every email the seller receives are read back and checked against `sop-v1.md`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications.messages.rendering import india_time
from shared.money import rupees as inr
from tests.conftest import Harness
from tests.support.db import execute
from tests.support.factories import uid
from tests.support.mail import messages_mentioning, text_part
from tests.support.scenario import AGENT, Scenario, case_of, in_both, mails_about
from tests.support.stories import (
    evidence_photo,
    fall_due,
    filed_case,
    premature_claim,
)

FINANCE = "DISPUTEDESK_KEY_FINANCE"


async def _ledger(harness: Harness, recon: Any, case_id: str) -> list[dict[str, Any]]:
    r = await recon.client.get(f"/v1/ledger/cases/{case_id}", headers=harness.key(FINANCE))
    assert r.status_code == 200, r.text
    return list(r.json()["transactions"])


def _posted(transaction: dict[str, Any]) -> dict[str, int]:
    return {line["account"]: line["amount"] for line in transaction["lines"]}


async def test_a_repeated_delivery_scan_does_not_move_the_claim_window(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E3 counts 168 hours from DELIVERED_TO_SELLER. The partner delivered the return 9 days
    ago and sent a delivery scan again yesterday (a new event, a later time, the same parcel):
    the seller has had the parcel for 9 days, so a damage claim filed now is out of the window.
    Read from the latest scan, the window would start again with every repeated scan and the
    claim would be paid."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline).return_(qc_required=False, item_value=180_000)
    delivered = story.now - timedelta(days=9)
    story.picked_up(ago=timedelta(days=10)).delivered(at=delivered)
    story.delivered(ago=timedelta(days=1))
    story.escalate(claimed_amount=150_000)
    case = await story.case(lambda c: c["state"] in ("REJECTED", "CLOSED"))
    rid, to = story.rid, story.to
    assert (case["state"], case["reason_code"]) == ("REJECTED", "CLAIM_WINDOW_EXPIRED"), case
    assert case["decision"]["rule_id"] == "E3", case["decision"]
    assert case["payout"] in (0, None), case
    [closed] = await mails_about(harness, rid, "was closed")
    assert closed["To"] == to
    # The window's end is the first delivery's 168 hours, not the repeated scan's.
    in_both(closed, "after the claim window had closed", india_time(delivered + timedelta(days=7)))
    assert not await _ledger(harness, recon, case["case_id"])


async def test_a_repeated_lost_scan_opens_one_case_paid_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """P1 then L1: the partner declares the return lost and, a day later, declares it lost
    again (a new event). One proactive case, one decision, one settlement, one email of each
    kind; a third declaration after the settlement changes nothing."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline, seller=uid("S-LOST2")).in_directory()
    story.return_(qc_required=False, item_value=90_001).picked_up(ago=timedelta(days=3))
    story.lost(ago=timedelta(days=2)).lost(ago=timedelta(days=1))
    case = await story.case()
    rid, seller, to = story.rid, story.seller, story.to
    assert case["decision"]["rule_id"] == "L1", case["decision"]
    assert (case["decision"]["payout"], case["decision"]["partner_debit"]) == (90_001, 90_001)
    await story.lost(ago=timedelta(hours=1)).run()
    await asyncio.sleep(3)
    r = await recon.client.get("/v1/cases", params={"return_id": rid}, headers=harness.key(AGENT))
    assert len(r.json()["items"]) == 1, r.json()
    again = await case_of(harness, recon, rid, lambda c: True)
    assert again["version"] == case["version"], again["timeline"][-3:]
    [settlement] = await _ledger(harness, recon, case["case_id"])
    assert sum(line["amount"] for line in settlement["lines"]) == 0
    posted = _posted(settlement)
    assert posted[f"seller_payable:{seller}"] == -90_001, posted
    assert posted["partner_receivable:swiftship"] == 90_001, posted
    [noticed] = await mails_about(harness, rid, "We spotted a problem")
    [decided] = await mails_about(harness, rid, "approved in full")
    [settled] = await mails_about(harness, rid, "payment reference")
    assert {m["To"] for m in (noticed, decided, settled)} == {to}
    in_both(decided, inr(90_001))
    await asyncio.sleep(2)
    assert len(messages_mentioning(harness.mail_dir, rid)) == 3


async def test_a_late_loss_declaration_after_a_decision_moves_no_money(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """L11 decided and settled (no QC at pickup, a damage claim: the buyer liable for half);
    the partner then declares the return lost. The decision is not re-judged after it was
    settled (sop.md: facts are stored for the desk), no proactive case opens beside it, and
    the seller gets no further email: one acknowledgement, one decision, one settlement."""
    recon = pipeline["reconciliation"]
    filed = await filed_case(harness, pipeline)
    decision = filed.case["decision"]
    assert (decision["rule_id"], decision["payout"]) == ("L11", 75_000), decision
    await filed.story.seller_mails("payment reference")
    await filed.story.lost(at=datetime.now(UTC)).run()
    await asyncio.sleep(3)
    r = await recon.client.get(
        "/v1/cases", params={"return_id": filed.rid}, headers=harness.key(AGENT)
    )
    assert len(r.json()["items"]) == 1, r.json()
    case = await case_of(harness, recon, filed.rid, lambda c: True)
    assert case["decision"]["rule_id"] == "L11" and case["payout"] == 75_000, case
    assert len(await _ledger(harness, recon, case["case_id"])) == 1
    assert len(messages_mentioning(harness.mail_dir, filed.rid)) == 3


async def test_an_odd_paise_claim_is_halved_down_to_the_paisa_and_posted_as_decided(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """L11 on a claim of ₹1,234.57 (123,457 paise, under the ₹1,800 item value): payout =
    123,457 × 50 // 100 = 61,728 paise (floor), all of it the buyer's to repay. The ledger posts
    exactly that, balanced, and the seller's emails state ₹617.28 and the claim's ₹1,234.57."""
    recon = pipeline["reconciliation"]
    filed = await filed_case(harness, pipeline, claimed_amount=123_457)
    d = filed.case["decision"]
    assert (d["rule_id"], d["outcome"], d["liable_party"]) == ("L11", "PARTIAL", "BUYER"), d
    assert (d["base"] if "base" in d else 123_457) == 123_457
    assert (d["payout"], d["buyer_receivable"], d["partner_debit"]) == (61_728, 61_728, 0), d
    assert d["marketplace_cost"] == 0, d
    [settlement] = await _ledger(harness, recon, filed.case["case_id"])
    lines = settlement["lines"]
    assert sum(line["amount"] for line in lines) == 0
    by_account: dict[str, int] = {}
    for line in lines:
        by_account[line["account"]] = by_account.get(line["account"], 0) + line["amount"]
    assert by_account[f"seller_payable:{filed.seller}"] == -61_728, lines
    assert by_account[f"buyer_receivable:{d['facts']['buyer_id']}"] == 61_728, lines
    [decided] = await mails_about(harness, filed.rid, "partly approved")
    in_both(decided, inr(61_728))
    assert inr(61_729) not in text_part(decided)
    [settled] = await mails_about(harness, filed.rid, "payment reference")
    in_both(settled, inr(61_728))
    assert len(messages_mentioning(harness.mail_dir, filed.rid)) == 3


async def test_a_payout_exactly_at_the_approval_cap_is_settled_without_a_manager(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """Step 3: only a payout *above* ₹25,000 needs an ops_manager. A wrong-item claim of
    exactly ₹25,000 with no QC at pickup (L10, the buyer liable in full) is decided and paid at
    once: one acknowledgement, one decision, one settlement; no escalation email."""
    filed = await filed_case(
        harness,
        pipeline,
        item_value=2_600_000,
        claim_type="WRONG_ITEM",
        claimed_amount=2_500_000,
        evidence=[evidence_photo("UNBOXING_VIDEO", 77)],
    )
    d = filed.case["decision"]
    assert (d["rule_id"], d["payout"], d["buyer_receivable"]) == ("L10", 2_500_000, 2_500_000), d
    assert filed.case["payout"] == 2_500_000
    assert not [t for t in filed.case["timeline"] if t["kind"] == "CaseEscalated"]
    [decided] = await mails_about(harness, filed.rid, "approved in full")
    in_both(decided, inr(2_500_000))
    await mails_about(harness, filed.rid, "payment reference")
    assert len(messages_mentioning(harness.mail_dir, filed.rid)) == 3


async def test_a_loss_declared_after_a_premature_claim_is_decided_without_a_new_filing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E3b closed a 'not received' claim filed 3 days after pickup (wait for the 10 days). The
    next day the partner declares the parcel lost: there is nothing left to wait for (E3b does
    not apply once the partner admits the loss), and P1 says the desk acts on a declared loss
    without the seller. The case reopens and L1 pays the seller in full, the partner liable;
    the seller is not left waiting to file again for money the partner already owes."""
    recon = pipeline["reconciliation"]
    now = datetime.now(UTC)
    claim = await premature_claim(harness, pipeline, picked_up=now - timedelta(days=3))
    [closed] = await claim.story.seller_mails("was closed")
    case = await claim.story.lost(at=now - timedelta(hours=1)).case(
        lambda c: c["state"] == "CLOSED" and c["decision"] and c["decision"]["rule_id"] == "L1",
    )
    d = case["decision"]
    assert (d["liable_party"], d["payout"], d["partner_debit"]) == ("PARTNER", 90_000, 90_000), d
    [settlement] = await _ledger(harness, recon, case["case_id"])
    assert _posted(settlement)[f"seller_payable:{claim.seller}"] == -90_000
    [decided] = await mails_about(harness, claim.rid, "approved in full")
    assert decided["To"] == claim.to
    in_both(decided, inr(90_000), "declared the parcel lost")
    assert "file again" not in text_part(decided), text_part(decided)
    await mails_about(harness, claim.rid, "payment reference")
    await asyncio.sleep(2)
    # The first filing's acknowledgement and closure, then the decision and its settlement:
    # no acknowledgement of a filing the seller did not make.
    subjects = [str(m["Subject"]) for m in messages_mentioning(harness.mail_dir, claim.rid)]
    assert len(subjects) == 4, subjects
    assert "We have your claim" in subjects[0] and "was closed" in subjects[1], subjects
    assert "approved in full" in subjects[2] and closed["Subject"] == subjects[1], subjects


async def test_a_weight_drop_reported_after_the_window_closed_leaves_the_claim_to_e3(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The partner's delivery scan, with a weight drop (1.2 kg picked up, 0.8 kg delivered),
    says the return was delivered 8 days ago. P2 would ask the seller for evidence within the
    7 days after delivery, which are over: a case opened for it would ask by a time already
    passed and close at once. No case opens and the seller hears nothing of it; the seller's
    own missing-item claim, filed now, is then E3's (CLAIM_WINDOW_EXPIRED, with the window's
    end), not a duplicate of a case the seller never saw."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline).return_(qc_required=False, item_value=180_000)
    delivered = story.now - timedelta(days=8)
    story.picked_up(ago=timedelta(days=9)).delivered(at=delivered, weight_g=800)
    await story.run()
    rid = story.rid
    await asyncio.sleep(3)
    r = await recon.client.get("/v1/cases", params={"return_id": rid}, headers=harness.key(AGENT))
    assert r.json()["items"] == [], r.json()
    story.escalate(
        claim_type="MISSING_ITEM",
        claimed_amount=150_000,
        received_weight_g=800,
        evidence=[evidence_photo("UNBOXING_VIDEO", 88)],
    )
    case = await story.case(lambda c: c["state"] in ("REJECTED", "CLOSED"))
    assert (case["state"], case["reason_code"]) == ("REJECTED", "CLAIM_WINDOW_EXPIRED"), case
    assert case["decision"]["rule_id"] == "E3", case["decision"]
    [closed] = await mails_about(harness, rid, "was closed")
    in_both(closed, india_time(delivered + timedelta(days=7)))
    subjects = [str(m["Subject"]) for m in messages_mentioning(harness.mail_dir, rid)]
    assert len(subjects) == 2 and "We have your claim" in subjects[0], subjects


async def test_l3_a_parcel_never_delivered_ten_days_after_pickup_is_the_partners(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """L3: 'not received', no delivery scan, filed 11 days after pickup (E3b's 10 days are
    over, E3c's 45 are not). The partner is liable for all of it; the seller is paid in full
    and told why (the pickup day, no delivery record after more than 10 days): one
    acknowledgement, one decision, one settlement, in that order."""
    story = Scenario(harness, pipeline).return_(qc_required=False, item_value=90_000)
    story.picked_up(ago=timedelta(days=11)).in_transit(ago=timedelta(days=10))
    story.escalate(claim_type="NOT_RECEIVED", claimed_amount=95_000, evidence=[])
    case = await story.case()
    rid, to = story.rid, story.to
    d = case["decision"]
    assert (d["rule_id"], d["liable_party"], d["outcome"]) == ("L3", "PARTNER", "GRANTED"), d
    # The base is the lower of the claim (₹950) and the item value (₹900).
    assert (d["payout"], d["partner_debit"], d["marketplace_cost"]) == (90_000, 90_000, 0), d
    [decided] = await mails_about(harness, rid, "approved in full")
    assert decided["To"] == to
    in_both(decided, inr(90_000), "no delivery record after more than 10 days")
    await mails_about(harness, rid, "payment reference")
    subjects = [str(m["Subject"]) for m in messages_mentioning(harness.mail_dir, rid)]
    assert len(subjects) == 3, subjects
    assert "We have your claim" in subjects[0] and "approved in full" in subjects[1], subjects
    assert "payment reference" in subjects[2].lower() or "credited" in subjects[2], subjects


async def test_e4_evidence_not_sent_by_the_reply_by_closes_the_claim_unpaid_with_that_time(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E4: a damage claim filed without evidence is asked for the checklist with a reply-by
    72 hours ahead; nothing comes and the reply-by passes: REJECTED, EVIDENCE_NOT_PROVIDED,
    nothing paid or posted. The seller's emails: the acknowledgement, the request, then the
    closure, which restates the reply-by and offers the dated appeal."""
    recon = pipeline["reconciliation"]
    filed = await filed_case(
        harness, pipeline, until=lambda c: c["state"] == "AWAITING_EVIDENCE", evidence=[]
    )
    case_id = filed.case["case_id"]
    requested_by = datetime.fromisoformat(filed.case["reply_by"])
    opened = datetime.fromisoformat(filed.case["opened_at"])
    assert timedelta(hours=71, minutes=59) < requested_by - opened <= timedelta(hours=72), (
        filed.case
    )
    await mails_about(harness, filed.rid, "Please send evidence")
    # The 72 hours pass: the case's reply-by and its timer are now.
    await execute(recon, "UPDATE cases SET reply_by = now() WHERE case_id = :c", c=case_id)
    await fall_due(recon, case_id, "EVIDENCE_REPLY")
    case = await case_of(harness, recon, filed.rid, lambda c: c["state"] == "REJECTED")
    assert case["reason_code"] == "EVIDENCE_NOT_PROVIDED", case
    assert case["decision"]["rule_id"] == "E4" and case["payout"] in (0, None), case
    assert not await _ledger(harness, recon, case_id)
    [closed] = await mails_about(harness, filed.rid, "was closed")
    assert closed["To"] == filed.to
    in_both(closed, 'choose "Appeal"', india_time(datetime.fromisoformat(case["appeal_by"])))
    subjects = [str(m["Subject"]) for m in messages_mentioning(harness.mail_dir, filed.rid)]
    assert len(subjects) == 3, subjects
    assert "We have your claim" in subjects[0] and "Please send evidence" in subjects[1]


async def test_evidence_completing_the_request_is_decided_without_another_request(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E4 then evidence: a damage claim filed with one photo is asked for the rest; the seller
    sends another photo and the label photo, which complete the checklist (2 photos + 1 label).
    The case is decided by its rule (L11, half, the buyer liable) with no second request: the
    seller's emails are the acknowledgement, the request, the decision, the settlement."""
    intake = pipeline["intake"]
    filed = await filed_case(
        harness,
        pipeline,
        until=lambda c: c["state"] == "AWAITING_EVIDENCE",
        evidence=[evidence_photo("PHOTO", 301)],
    )
    await mails_about(harness, filed.rid, "Please send evidence")
    r = await intake.client.post(
        f"/v1/escalations/{filed.escalation_id}/evidence",
        json={"evidence": [evidence_photo("PHOTO", 302), evidence_photo("LABEL_PHOTO", 303)]},
        headers=harness.key(AGENT),
    )
    assert r.status_code in (200, 201, 202), r.text
    recon = pipeline["reconciliation"]
    case = await case_of(harness, recon, filed.rid, lambda c: c["state"] == "CLOSED")
    d = case["decision"]
    assert (d["rule_id"], d["payout"], d["buyer_receivable"]) == ("L11", 75_000, 75_000), d
    assert d["facts"]["evidence_counts"] == {"LABEL_PHOTO": 1, "PHOTO": 2}, d["facts"]
    await mails_about(harness, filed.rid, "partly approved")
    await mails_about(harness, filed.rid, "payment reference")
    await asyncio.sleep(3)
    subjects = [str(m["Subject"]) for m in messages_mentioning(harness.mail_dir, filed.rid)]
    assert len(subjects) == 4, subjects
    assert sum("Please send evidence" in s for s in subjects) == 1, subjects


MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"


def _seller_subjects(harness: Harness, rid: str, to: str) -> list[str]:
    """The seller's emails about the return, oldest first (management's alerts left out)."""
    mails = [m for m in messages_mentioning(harness.mail_dir, rid) if m["To"] == to]
    return [" ".join(str(m["Subject"]).split()) for m in mails]


async def _approve(recon: Any, harness: Harness, case_id: str, proposal_id: str) -> Any:
    return await recon.client.post(
        f"/v1/cases/{case_id}/approve",
        json={"reason": "Checked the scans", "proposal_id": proposal_id},
        headers=harness.key(MANAGER),
    )


async def test_a_transit_damage_declared_while_a_proposal_awaits_approval_replaces_it(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """A wrong-item claim of ₹30,000 with no QC at pickup: L10 proposes the full amount from
    the buyer, above the approval cap, and the seller is told it awaits a manager. Before any
    manager acts, the partner's scan declaring the parcel damaged in transit arrives: the case
    is not decided yet, so it re-evaluates (L2, the partner liable). The new proposal replaces
    the old; approving the old one by its name answers 409 naming the new one; approving the
    new one posts the partner's debit (swiftship's ₹10,000 cap) and the rest as the
    marketplace's cost, not a receivable from the buyer. Management is alerted that the
    proposal was replaced, naming both; the seller, whose amount did not change, hears nothing
    of it: acknowledgement, one escalation update, the decision, the settlement."""
    recon = pipeline["reconciliation"]
    filed = await filed_case(
        harness,
        pipeline,
        until=lambda c: c["state"] == "ESCALATED",
        item_value=3_000_000,
        claim_type="WRONG_ITEM",
        claimed_amount=3_000_000,
    )
    case_id, first = filed.case["case_id"], filed.case["proposal_id"]
    assert filed.case["proposal"]["rule_id"] == "L10" and first, filed.case
    assert filed.case["proposal"]["liable_party"] == "BUYER", filed.case["proposal"]
    await mails_about(harness, filed.rid, "An update on your claim")
    picked_up = datetime.now(UTC) - timedelta(days=2)
    case = await filed.story.damaged(at=picked_up + timedelta(hours=6)).case(
        lambda c: (c["proposal"] or {}).get("rule_id") == "L2"
    )
    assert case["state"] == "ESCALATED" and case["proposal_id"] not in (None, first), case
    proposal = case["proposal"]
    assert (proposal["liable_party"], proposal["payout"]) == ("PARTNER", 3_000_000), proposal
    assert (proposal["partner_debit"], proposal["buyer_receivable"]) == (1_000_000, 0), proposal
    assert proposal["marketplace_cost"] == 2_000_000, proposal
    [replaced] = [
        t["data"]
        for t in case["timeline"]
        if t["kind"] == "CaseUpdated" and t["data"]["event"]["change"] == "PROPOSAL_REPLACED"
    ]
    assert replaced["replaced_proposal_id"] == first, replaced
    assert replaced["proposal_id"] == case["proposal_id"], replaced
    [alert] = await mails_about(harness, filed.rid, "proposal replaced")
    assert alert["To"] != filed.to
    said = " ".join(text_part(alert).split())
    assert first in said and case["proposal_id"] in said, said
    assert "The amount the seller was told is unchanged" in said, said

    stale = await _approve(recon, harness, case_id, first)
    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    problem = stale.json()
    assert problem["current_proposal_id"] == case["proposal_id"], problem
    assert case["proposal_id"] in problem["detail"] and first in problem["detail"], problem
    assert [e["field"] for e in problem["errors"]] == ["body.proposal_id"], problem

    ok = await _approve(recon, harness, case_id, case["proposal_id"])
    assert ok.status_code == 200, ok.text
    closed = await case_of(harness, recon, filed.rid, lambda c: c["state"] == "CLOSED")
    assert closed["decision"]["rule_id"] == "L2" and closed["payout"] == 3_000_000, closed
    [settlement] = await _ledger(harness, recon, case_id)
    assert sum(line["amount"] for line in settlement["lines"]) == 0
    posted = _posted(settlement)
    assert posted["partner_receivable:swiftship"] == 1_000_000, posted
    assert not [a for a in posted if a.startswith("buyer_receivable")], posted
    [decided] = await mails_about(harness, filed.rid, "approved in full")
    in_both(decided, inr(3_000_000))
    await mails_about(harness, filed.rid, "payment reference")
    await asyncio.sleep(2)
    subjects = _seller_subjects(harness, filed.rid, filed.to)
    assert len(subjects) == 4, subjects
    assert "We have your claim" in subjects[0] and "An update" in subjects[1], subjects


async def test_a_delivery_proof_arriving_while_a_proposal_awaits_approval_decides_it(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """'Not received' 12 days after pickup with no delivery scan: L3 proposes ₹30,000 from the
    partner, above the cap. The partner's delivery scan then arrives, with OTP-verified proof
    (delivered 8 days ago): re-evaluated, L4 denies the claim, which is under the cap, so the
    SOP decides it at once as usual. The withdrawn proposal cannot be approved (409, no
    current proposal); nothing is paid or posted; the seller gets the decision after the
    acknowledgement and the escalation update, and no settlement email."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline).return_(qc_required=False, item_value=3_000_000)
    story.picked_up(ago=timedelta(days=12))
    story.escalate(claim_type="NOT_RECEIVED", claimed_amount=3_000_000, evidence=[])
    case = await story.case(lambda c: c["state"] == "ESCALATED")
    rid, to = story.rid, story.to
    proposed = case["proposal_id"]
    assert (case["proposal"]["rule_id"], case["proposal"]["payout"]) == ("L3", 3_000_000)
    await story.seller_mails("An update on your claim")
    story.delivered(ago=timedelta(days=8), otp_verified=True)
    decided_case = await story.case(lambda c: c["state"] in ("DECIDED", "CLOSED"))
    d = decided_case["decision"]
    assert (d["rule_id"], d["outcome"], d["payout"]) == ("L4", "DENIED", 0), d
    assert decided_case["proposal"] is None and decided_case["proposal_id"] is None
    stale = await _approve(recon, harness, case["case_id"], proposed)
    assert stale.status_code == 409, stale.text
    assert stale.json()["current_proposal_id"] is None, stale.json()
    assert decided_case["payout"] in (0, None)
    assert all(
        sum(line["amount"] for line in tx["lines"]) == 0
        for tx in await _ledger(harness, recon, case["case_id"])
    )
    mails = await mails_about(harness, rid, case["case_id"], count=3)
    await asyncio.sleep(2)
    subjects = _seller_subjects(harness, rid, to)
    assert len(subjects) == 3, subjects
    assert "We have your claim" in subjects[0] and "An update" in subjects[1], subjects
    assert "approved" not in subjects[2] and "payment reference" not in subjects[2], subjects
    assert mails


async def test_a_qc_failed_on_reinspection_after_the_pickup_is_not_p3_and_a_claim_goes_to_a_person(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """P3/L7 are `PICKED_UP` after `QC_FAILED` ("picked up anyway"), by the scans' own times.
    Here the partner picked the return up and its hub's re-inspection failed it six hours later,
    the failed QC arriving after the pickup scan: no proactive case opens (before, P3 opened and
    L7 paid at once). The seller's damage claim then finds no SOP rule that reads a QC failed
    after the pickup (L8/L9 need it passed, L10/L11 none): L12, a person reviews it; nothing is
    paid and the seller is not told the partner picked up a parcel that failed its check."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline).return_(qc_required=True, item_value=60_000)
    picked_up = story.now - timedelta(days=2)
    await story.picked_up(at=picked_up).qc_failed(at=picked_up + timedelta(hours=6)).run()
    rid, to = story.rid, story.to
    await asyncio.sleep(4)
    r = await recon.client.get("/v1/cases", params={"return_id": rid}, headers=harness.key(AGENT))
    assert r.json()["items"] == [], r.json()
    story.delivered(ago=timedelta(days=1)).escalate(claimed_amount=60_000)
    case = await story.case(lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "NO_RULE_MATCHED", case
    assert case["payout"] in (0, None) and case["decision"] is None, case
    assert not await _ledger(harness, recon, case["case_id"])
    opened = next(t for t in case["timeline"] if t["kind"] == "CaseOpened")
    assert opened["data"]["trigger_rule"] is None, opened  # the seller's claim, not P3
    [ack] = await mails_about(harness, rid, "We have your claim")
    assert ack["To"] == to
    for mail in messages_mentioning(harness.mail_dir, rid):
        assert "quality check at pickup failed" not in text_part(mail), mail["Subject"]


async def _tasks(harness: Harness, recon: Any, case_id: str) -> list[dict[str, Any]]:
    r = await recon.client.get(f"/v1/cases/{case_id}/tasks", headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _changes(case: dict[str, Any], change: str) -> list[dict[str, Any]]:
    return [
        t
        for t in case["timeline"]
        if t["kind"] == "CaseUpdated" and t["data"]["event"].get("change") == change
    ]


async def _delivered_after_payout(
    harness: Harness, recon: Any, case: dict[str, Any]
) -> dict[str, Any]:
    """The case once its delivery-after-payout task is open; that task alone of its kind."""
    flagged = await case_of(
        harness,
        recon,
        case["return_id"],
        lambda c: bool(_changes(c, "DELIVERED_AFTER_LOSS_PAYOUT")),
    )
    tasks = await _tasks(harness, recon, case["case_id"])
    [task] = [t for t in tasks if t["hold_kind"] == "DELIVERED_AFTER_LOSS_PAYOUT"]
    assert (task["team"], task["status"], task["blocks_settlement"]) == ("finance", "OPEN", False)
    return {"case": flagged, "task": task}


async def test_a_parcel_paid_as_lost_then_delivered_asks_finance_once_and_moves_no_money(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """P1 then L1: the partner declares the return lost, the seller is paid in full and the
    partner debited. Then the partner delivers it to the seller, and sends the delivery scan
    again: the seller holds both the payout and the parcel. The decision stands (no re-judging
    after a decision) and no money moves by itself, but the desk gets one finance task naming
    the payout and the debit to recover or confirm, and the timeline says why. The seller hears
    nothing beyond the L1 path's three emails."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline, seller=uid("S-LOSTDLV")).in_directory()
    story.return_(qc_required=False, item_value=84_000)
    story.picked_up(ago=timedelta(days=4)).lost(ago=timedelta(days=2))
    case = await story.case()
    rid, to = story.rid, story.to
    assert case["decision"]["rule_id"] == "L1", case["decision"]
    await story.seller_mails("payment reference")
    [before] = await _ledger(harness, recon, case["case_id"])
    await story.delivered(ago=timedelta(hours=2)).run()
    flagged = await _delivered_after_payout(harness, recon, case)
    task, after = flagged["task"], flagged["case"]
    assert "84000 paise" in task["ask"] and "swiftship" in task["ask"], task["ask"]
    assert "Recover or confirm the payout" in task["ask"], task["ask"]
    [update] = _changes(after, "DELIVERED_AFTER_LOSS_PAYOUT")
    assert (update["data"]["payout"], update["data"]["partner_debit"]) == (84_000, 84_000)
    assert after["state"] == "CLOSED" and after["decision"] == case["decision"], after
    # A repeated delivery scan (a new event, a later time) is the same delivery: no second ask.
    await story.delivered(ago=timedelta(hours=1)).run()
    await asyncio.sleep(3)
    again = await case_of(harness, recon, rid, lambda c: True)
    assert len(_changes(again, "DELIVERED_AFTER_LOSS_PAYOUT")) == 1, again["timeline"][-4:]
    tasks = await _tasks(harness, recon, case["case_id"])
    assert [t["hold_kind"] for t in tasks].count("DELIVERED_AFTER_LOSS_PAYOUT") == 1, tasks
    assert await _ledger(harness, recon, case["case_id"]) == [before]
    await asyncio.sleep(2)
    subjects = _seller_subjects(harness, rid, to)
    assert len(subjects) == 3, subjects


async def test_a_parcel_paid_as_not_received_under_l3_then_delivered_asks_finance(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """L3 (no delivery record ten days after pickup) paid the seller in full; the partner then
    delivers the parcel. As after L1: one finance task, the ledger as settled, no seller email
    beyond the acknowledgement, the decision and the settlement."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline).return_(qc_required=False, item_value=60_000)
    story.picked_up(ago=timedelta(days=11))
    story.escalate(claim_type="NOT_RECEIVED", claimed_amount=60_000, evidence=[])
    case = await story.case()
    rid, to = story.rid, story.to
    assert case["decision"]["rule_id"] == "L3", case["decision"]
    await story.seller_mails("payment reference")
    before = await _ledger(harness, recon, case["case_id"])
    await story.delivered(at=datetime.now(UTC)).run()
    flagged = await _delivered_after_payout(harness, recon, case)
    assert "60000 paise" in flagged["task"]["ask"], flagged["task"]
    assert flagged["case"]["decision"] == case["decision"]
    assert await _ledger(harness, recon, case["case_id"]) == before
    await asyncio.sleep(2)
    assert len(_seller_subjects(harness, rid, to)) == 3, _seller_subjects(harness, rid, to)


async def test_an_l5_payout_is_questioned_by_a_delivery_proven_by_otp_not_by_a_rescan(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """L5 paid a 'not received' claim on a delivery made without OTP proof. The partner scanning
    that delivery again tells the decision nothing new: no task. A delivery scan with the
    seller's OTP (what L4 would have denied the claim on) contradicts it: one finance task, the
    ledger as settled, and the seller's three emails only."""
    recon = pipeline["reconciliation"]
    story = Scenario(harness, pipeline).return_(qc_required=False, item_value=70_000)
    story.picked_up(ago=timedelta(days=5)).delivered(ago=timedelta(days=3))
    story.escalate(claim_type="NOT_RECEIVED", claimed_amount=70_000, evidence=[])
    case = await story.case()
    rid, to = story.rid, story.to
    assert case["decision"]["rule_id"] == "L5", case["decision"]
    await story.seller_mails("payment reference")
    before = await _ledger(harness, recon, case["case_id"])
    await story.delivered(ago=timedelta(hours=3)).run()
    await asyncio.sleep(3)
    rescanned = await case_of(harness, recon, rid, lambda c: True)
    assert not _changes(rescanned, "DELIVERED_AFTER_LOSS_PAYOUT"), rescanned["timeline"][-3:]
    assert not await _tasks(harness, recon, case["case_id"])
    await story.delivered(ago=timedelta(hours=2), otp_verified=True).run()
    flagged = await _delivered_after_payout(harness, recon, case)
    assert "70000 paise" in flagged["task"]["ask"], flagged["task"]
    assert flagged["case"]["decision"] == case["decision"]
    assert await _ledger(harness, recon, case["case_id"]) == before
    await asyncio.sleep(2)
    assert len(_seller_subjects(harness, rid, to)) == 3, _seller_subjects(harness, rid, to)
