"""Appeals, approvals and merges racing other facts, on the running stack.

`test_sop_any_order.py` tells each SOP story in several orders up to its first answer. Here the
seller's appeal, a manager's approval or the seller's own claim meets a fact that arrives around
it (the partner's late record, a QC scan, the desk's own case deciding), each story told in
several orders, and the case's decision, its ledger and every seller email are checked against
sop-v1:

- E2 / E2b (sop-v1: "the return already has an open case" → merged; "a decided/rejected case"
  → duplicate). The SOP keys the answer on the desk's case's state when the claim arrives, not
  on the facts alone: a claim before the partner's declared loss, or while the desk's P1 case is
  open, is the case's claim (its amount counts); after the P1 case is decided it is a duplicate
  and the P1 payout (the item value) stands. Both sides are held here, each in its orders.
- an appeal on a decided claim and a late QC scan: whichever comes first, the appeal is heard
  and the decision is not re-judged by the scan (sop.md: facts after a decision are shown, not
  applied);
- two appeals in different words at once, or one after the other: one is heard, the other is
  answered `APPEAL_REPEATED`, one `appeal_received` and one `appeal_not_heard`;
- an appeal a few seconds inside, and a few seconds after, the appeal window;
- a manager's approval of the SOP's proposal and a QC scan that changes who bears it: the
  approval names the proposal it approves; one named after the scan replaced it is refused and
  the current one is approved, the seller paid once in every order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications.messages.rendering import seller_time
from tests.conftest import Harness
from tests.integration import test_sop_any_order as any_order
from tests.support.db import execute
from tests.support.factories import uid
from tests.support.scenario import AGENT, put_seller, seller_messages, seller_profile
from tests.support.sop_oracle import VIDEO, Claim, D, H, Scan, Story, expected
from tests.support.waiting import eventually

MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"
_IN_ORDER = any_order.TELLINGS[0]
_PICKED = Scan("PICKED_UP", 2 * D, 1200)
_DELIVERED = Scan("DELIVERED_TO_SELLER", 1 * D, 1150, False)


def _told(story: Story, name: str) -> any_order.Told:
    return any_order.Told(
        story,
        _IN_ORDER,
        uid(f"RET-{name}"),
        uid(f"S-{name}"),
        f"{uid(name.lower())}@example.com",
        expected(story),
    )


async def _case_until(harness: Harness, pipeline: dict[str, Any], rid: str, until: Any) -> Any:
    return await eventually(
        lambda: any_order._case(harness, pipeline["reconciliation"], rid),
        until=lambda c: c is not None and until(c),
        timeout=120,
        what=f"the case of {rid}",
    )


async def _emails(harness: Harness, pipeline: dict[str, Any], rid: str) -> list[tuple[str, str]]:
    return await seller_messages(pipeline["notifications"], rid)


async def _templates_once_settled(
    harness: Harness, pipeline: dict[str, Any], rid: str, wanted: set[str]
) -> list[tuple[str, str]]:
    await eventually(
        lambda: _emails(harness, pipeline, rid),
        until=lambda emails: wanted <= {t for t, _ in emails},
        timeout=120,
        what=f"the emails {sorted(wanted)} of {rid}",
    )
    await asyncio.sleep(6)  # anything else the case causes
    return await _emails(harness, pipeline, rid)


async def _appeal(harness: Harness, pipeline: dict[str, Any], rid: str, reason: str) -> None:
    r = await pipeline["intake"].client.post(
        f"/v1/returns/{rid}/appeal", json={"reason": reason}, headers=harness.key(AGENT)
    )
    assert r.status_code in (200, 201, 202), r.text


def _said_once(emails: list[tuple[str, str]]) -> None:
    bodies = [body for _, body in emails]
    assert len(bodies) == len(set(bodies)), [t for t, _ in emails]


# ---------------------------------------------------------------------------------------------
# E2 / E2b: the seller's claim and the desk's own case on the partner's record
# ---------------------------------------------------------------------------------------------

_LOST_STORY = Story(
    "L1 declared lost, the seller claims less than the item value",
    item_value=150_000,
    scans=(_PICKED, Scan("LOST", 1 * D)),
    claim=Claim("NOT_RECEIVED", 90_000),
)


@pytest.mark.timeout(300)
async def test_a_claim_before_the_record_or_while_the_desks_case_is_open_counts_its_amount(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E2: the claim first (the record after it), or the record first with the desk's P1 case
    still open: the claim is the case's, L1 pays the amount claimed (₹900.00), not the item
    value, the partner debited the same; one decision and settlement email with that amount."""
    told = _told(_LOST_STORY, "E2")
    teller = any_order._Teller(harness, pipeline, told)
    await teller.send_claim()
    await teller.send_feed()
    await teller.send_scans(sorted(_LOST_STORY.scans, key=lambda s: -s.ago))
    case = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")
    assert (case["decision"]["rule_id"], case["decision"]["payout"]) == ("L1", 90_000)
    assert case["decision"]["partner_debit"] == 90_000
    emails = await _templates_once_settled(
        harness, pipeline, told.rid, {"acknowledgement", "decision", "settlement"}
    )
    # Filed two days after the pickup and before the loss reached the desk, the claim was
    # first closed as premature (E3b); the declared loss reopened it: the decision says the
    # closure's email is replaced.
    decisions = [b for t, b in emails if t == "decision"]
    assert 1 <= len(decisions) <= 2, [t for t, _ in emails]
    assert "₹900.00" in decisions[-1] and "₹1,500.00" not in decisions[-1], decisions[-1]
    if len(decisions) == 2:
        assert "This email replaces our email of" in decisions[-1], decisions[-1]
    _said_once(emails)


@pytest.mark.timeout(300)
async def test_a_claim_merged_into_the_desks_open_p1_case_replaces_its_proposal(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E2 with the record first: a loss above the approval cap keeps the desk's P1 case open
    (`ESCALATED`, its proposal on the item value); the seller's claim joins it and the SOP's
    proposal is replaced by one on the amount claimed, the seller told the new amount."""
    story = Story(
        "P1 above the cap, then the seller's claim",
        item_value=3_000_000,
        scans=(_PICKED, Scan("LOST", 1 * D)),
        claim=Claim("NOT_RECEIVED", 2_600_000),
    )
    told = _told(story, "E2OPEN")
    await put_seller(harness, pipeline["notifications"], told.seller, seller_profile(told.to))
    teller = any_order._Teller(harness, pipeline, told)
    await teller.send_feed()
    await teller.send_scans(sorted(story.scans, key=lambda s: -s.ago))
    first = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "ESCALATED")
    assert first["proposal"]["payout"] == 3_000_000
    await teller.send_claim()
    case = await _case_until(
        harness,
        pipeline,
        told.rid,
        lambda c: c["state"] == "ESCALATED" and (c["proposal"] or {}).get("payout") == 2_600_000,
    )
    assert case["proposal"]["rule_id"] == "L1"
    r = await pipeline["reconciliation"].client.post(
        f"/v1/cases/{case['case_id']}/approve",
        json={"reason": "Declared lost", "proposal_id": case["proposal_id"]},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text
    done = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")
    assert done["decision"]["payout"] == 2_600_000
    ledger = await any_order._ledger(harness, pipeline["reconciliation"], done["case_id"])
    assert ledger["seller_payable"] == -2_600_000, ledger
    emails = await _templates_once_settled(harness, pipeline, told.rid, {"decision", "settlement"})
    updates = [b for t, b in emails if t == "escalation_update"]
    assert any("₹26,000.00" in b for b in updates), updates
    _said_once(emails)


@pytest.mark.timeout(300)
async def test_a_claim_after_the_desks_p1_case_is_decided_is_a_duplicate_and_the_payout_stands(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E2b with the record first and the desk's P1 case already decided: the claim is a
    duplicate; the P1 decision on the item value (₹1,500.00) stands, nothing more is posted, and
    the seller's `duplicate_filing` says so. The same facts in the other order pay ₹900.00
    (above): sop-v1 keys E2/E2b on the case's state, as docs/sop.md says."""
    told = _told(_LOST_STORY, "E2B")
    await put_seller(harness, pipeline["notifications"], told.seller, seller_profile(told.to))
    teller = any_order._Teller(harness, pipeline, told)
    await teller.send_feed()
    await teller.send_scans(sorted(_LOST_STORY.scans, key=lambda s: -s.ago))
    decided = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")
    assert (decided["decision"]["rule_id"], decided["decision"]["payout"]) == ("L1", 150_000)
    await teller.send_claim()
    await eventually(
        lambda: _emails(harness, pipeline, told.rid),
        until=lambda emails: "duplicate_filing" in {t for t, _ in emails},
        timeout=120,
        what="the duplicate filing's answer",
    )
    case = await any_order._case(harness, pipeline["reconciliation"], told.rid)
    assert case is not None and case["state"] == "CLOSED"
    assert case["decision"]["payout"] == 150_000
    ledger = await any_order._ledger(harness, pipeline["reconciliation"], case["case_id"])
    assert ledger["seller_payable"] == -150_000, ledger
    emails = await _emails(harness, pipeline, told.rid)
    duplicate = next(b for t, b in emails if t == "duplicate_filing")
    assert "₹1,500.00" in duplicate or "already" in duplicate, duplicate
    assert [t for t, _ in emails].count("settlement") == 1
    _said_once(emails)


# ---------------------------------------------------------------------------------------------
# Appeals and the facts around them
# ---------------------------------------------------------------------------------------------

_L11 = Story(
    "L11 no QC, damaged: half",
    item_value=180_000,
    scans=(_PICKED, _DELIVERED),
    claim=Claim("DAMAGED", 180_000, VIDEO),
)


async def _decided(harness: Harness, pipeline: dict[str, Any], told: any_order.Told) -> Any:
    await any_order._Teller(harness, pipeline, told).tell()
    return await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")


@pytest.mark.timeout(400)
@pytest.mark.parametrize("order", ["appeal first", "scan first", "at once"])
async def test_an_appeal_and_a_late_qc_scan_in_any_order(
    harness: Harness, pipeline: dict[str, Any], order: str
) -> None:
    """A decided L11 (no QC: half, the buyer bears it), then the seller's appeal and the
    partner's late QC_PASSED scan (which, had it come first, made it L9: full, the partner's).
    The decision is not re-judged by a fact after it: the appeal is heard in every order, the
    ledger holds the L11 settlement alone, and the seller gets one `appeal_received`."""
    told = _told(_L11, "APLQC")
    case = await _decided(harness, pipeline, told)
    assert (case["decision"]["rule_id"], case["decision"]["payout"]) == ("L11", 90_000)
    teller = any_order._Teller(harness, pipeline, told)
    scan = [Scan("QC_PASSED", 2 * D + H, 1200)]
    appeal = _appeal(harness, pipeline, told.rid, "The partner checked the parcel at pickup.")
    if order == "appeal first":
        await appeal
        await teller.send_scans(scan)
    elif order == "scan first":
        await teller.send_scans(scan)
        await asyncio.sleep(2)
        await appeal
    else:
        await asyncio.gather(appeal, teller.send_scans(scan))
    appealed = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "APPEALED")
    assert appealed["decision"]["rule_id"] == "L11"
    emails = await _templates_once_settled(harness, pipeline, told.rid, {"appeal_received"})
    assert [t for t, _ in emails].count("appeal_received") == 1, [t for t, _ in emails]
    ledger = await any_order._ledger(harness, pipeline["reconciliation"], appealed["case_id"])
    assert ledger == {"seller_payable": -90_000, "buyer_receivable": 90_000}, ledger
    _said_once(emails)


@pytest.mark.timeout(400)
@pytest.mark.parametrize("order", ["one after the other", "at once"])
async def test_two_appeals_in_different_words_one_heard_one_answered(
    harness: Harness, pipeline: dict[str, Any], order: str
) -> None:
    """Two appeals of the same decision in different words: the SOP allows one. One is heard
    (`APPEALED`, `appeal_received`), the other is answered `APPEAL_REPEATED` (`appeal_not_heard`
    with the open appeal's result date), whichever way they race; nothing moves money."""
    told = _told(_L11, "APL2")
    await _decided(harness, pipeline, told)
    first = _appeal(harness, pipeline, told.rid, "Half is not fair: the box was sealed.")
    second = _appeal(harness, pipeline, told.rid, "Also, the courier dropped it at my door.")
    if order == "at once":
        await asyncio.gather(first, second)
    else:
        await first
        await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "APPEALED")
        await second
    emails = await _templates_once_settled(
        harness, pipeline, told.rid, {"appeal_received", "appeal_not_heard"}
    )
    templates = [t for t, _ in emails]
    assert templates.count("appeal_received") == 1, templates
    assert templates.count("appeal_not_heard") == 1, templates
    case = await any_order._case(harness, pipeline["reconciliation"], told.rid)
    assert case is not None and case["state"] == "APPEALED"
    due = next(
        t["data"]["event"]["decision_due_by"]
        for t in case["timeline"]
        if (t.get("data") or {}).get("event", {}).get("type", "").endswith("case_appealed.v1")
    )
    not_heard = next(b for t, b in emails if t == "appeal_not_heard")
    assert seller_time(datetime.fromisoformat(due)) in not_heard, not_heard
    _said_once(emails)


@pytest.mark.timeout(400)
@pytest.mark.parametrize("side", ["inside by seconds", "after by seconds"])
async def test_an_appeal_at_the_edge_of_the_window(
    harness: Harness, pipeline: dict[str, Any], side: str
) -> None:
    """The case's appeal-by moved to a few seconds from now (as seven days later would be): an
    appeal filed before it is heard; one filed a few seconds after it is answered `APPEAL_LATE`,
    its email giving the window's end (India time with UTC), the decision and ledger standing."""
    told = _told(_L11, "APLEDGE")
    case = await _decided(harness, pipeline, told)
    appeal_by = datetime.now(UTC) + timedelta(seconds=4)
    await execute(
        pipeline["reconciliation"],
        "UPDATE cases SET appeal_by = :a WHERE case_id = :c",
        a=appeal_by,
        c=case["case_id"],
    )
    if side == "after by seconds":
        await asyncio.sleep(7)
    await _appeal(harness, pipeline, told.rid, "The parcel was sealed when it came.")
    if side == "inside by seconds":
        await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "APPEALED")
        emails = await _templates_once_settled(harness, pipeline, told.rid, {"appeal_received"})
        assert "appeal_late" not in [t for t, _ in emails]
    else:
        emails = await _templates_once_settled(harness, pipeline, told.rid, {"appeal_late"})
        late = next(b for t, b in emails if t == "appeal_late")
        assert seller_time(appeal_by) in late, late
        after = await any_order._case(harness, pipeline["reconciliation"], told.rid)
        assert after is not None and after["state"] == "CLOSED"
        assert "appeal_received" not in [t for t, _ in emails]
    _said_once(emails)


# ---------------------------------------------------------------------------------------------
# A manager's approval and a fact that re-judges the proposal
# ---------------------------------------------------------------------------------------------

_ABOVE_CAP = Story(
    "L10 above the approval cap",
    item_value=3_000_000,
    scans=(_PICKED, _DELIVERED),
    claim=Claim("WRONG_ITEM", 2_600_000, VIDEO),
)


@pytest.mark.timeout(400)
@pytest.mark.parametrize("order", ["approval first", "scan first", "at once"])
async def test_an_approval_and_a_qc_scan_that_replaces_the_proposal(
    harness: Harness, pipeline: dict[str, Any], order: str
) -> None:
    """The SOP's L10 proposal (₹26,000.00, the buyer's) awaits approval; the partner's
    QC_PASSED scan makes it L8 (the partner's, capped). A manager approves the proposal they saw,
    by name. Approved first: L10 is decided and the scan, after it, re-judges nothing. The scan
    first: the named proposal is gone (409 naming the current), and approving the current one
    decides L8. Every order: one settlement of ₹26,000.00, a balanced ledger matching the
    decided rule, one `decision` and one `settlement` email."""
    told = _told(_ABOVE_CAP, "APPROVE")
    await any_order._Teller(harness, pipeline, told).tell()
    proposed = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "ESCALATED")
    assert proposed["proposal"]["rule_id"] == "L10"
    recon = pipeline["reconciliation"]
    teller = any_order._Teller(harness, pipeline, told)
    scan = [Scan("QC_PASSED", 2 * D + H, 1200)]

    async def approve(proposal_id: str) -> int:
        r = await recon.client.post(
            f"/v1/cases/{proposed['case_id']}/approve",
            json={"reason": "Checked the video", "proposal_id": proposal_id},
            headers=harness.key(MANAGER),
        )
        assert r.status_code in (200, 409), r.text
        return r.status_code

    if order == "approval first":
        assert await approve(proposed["proposal_id"]) == 200
        await teller.send_scans(scan)
    elif order == "scan first":
        await teller.send_scans(scan)
        await _case_until(
            harness,
            pipeline,
            told.rid,
            lambda c: (c["proposal"] or {}).get("rule_id") == "L8",
        )
        assert await approve(proposed["proposal_id"]) == 409
    else:
        await asyncio.gather(approve(proposed["proposal_id"]), teller.send_scans(scan))
    await asyncio.sleep(3)
    now = await any_order._case(harness, recon, told.rid)
    assert now is not None
    if now["state"] == "ESCALATED":
        assert now["proposal"]["rule_id"] == "L8"
        assert await approve(now["proposal_id"]) == 200
    done = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")
    decision = done["decision"]
    assert decision["payout"] == 2_600_000
    want = {"L10": ("BUYER", 0, 2_600_000), "L8": ("PARTNER", 1_000_000, 0)}[decision["rule_id"]]
    assert (
        decision["liable_party"],
        decision["partner_debit"],
        decision["buyer_receivable"],
    ) == want
    if order == "scan first":
        assert decision["rule_id"] == "L8"
    if order == "approval first":
        assert decision["rule_id"] == "L10"
    ledger = await any_order._ledger(harness, recon, done["case_id"])
    assert ledger["seller_payable"] == -2_600_000, ledger
    emails = await _templates_once_settled(harness, pipeline, told.rid, {"decision", "settlement"})
    templates = [t for t, _ in emails]
    assert templates.count("decision") == 1 and templates.count("settlement") == 1, templates
    _said_once(emails)


_CLOSED_THEN_RECORD = Story(
    "E3 closure, then the partner's failed QC before the pickup (L7)",
    item_value=150_000,
    qc_required=True,
    scans=(
        Scan("QC_FAILED", 9 * D + H, 1200),
        Scan("PICKED_UP", 9 * D, 1200),
        Scan("DELIVERED_TO_SELLER", 8 * D, 1150, False),
    ),
    claim=Claim("DAMAGED", 150_000, VIDEO),
)


def _result_date(appeal_received: str) -> str:
    """The date the appeal's acknowledgement gives for its result, as the seller reads it."""
    head = "with the result of the appeal by "
    start = appeal_received.index(head) + len(head)
    return appeal_received[start : appeal_received.index(" at the latest", start)]


@pytest.mark.timeout(400)
@pytest.mark.parametrize("order", ["record_then_appeal", "appeal_then_record"])
async def test_an_appeal_of_a_closure_and_the_partners_record_in_either_order(
    harness: Harness, pipeline: dict[str, Any], order: str
) -> None:
    """A claim closed by E3 (filed eight days after the delivery), the partner's failed QC
    before the pickup (P3's record: L7 pays on it whatever the window) and the seller's appeal
    of the closure, the record and the appeal in either order. sop-v1: an appeal within 7 days
    of a decision or rejection is decided by an ops_manager (REJECTED → APPEALED → DECIDED),
    and facts may arrive in any order. One answer: L7 pays ₹1,500.00 once (the partner's) and
    the appeal is with a manager (`APPEALED`), by the date its acknowledgement gave; the seller
    gets the same emails — one acknowledgement of the appeal, the closure and the decision that
    replaces it — and a manager other than the SOP decides the appeal."""
    told = _told(_CLOSED_THEN_RECORD, f"APLREC{order[:3].upper()}")
    teller = any_order._Teller(harness, pipeline, told)
    await teller.send_claim()
    await teller.send_feed()
    scans = sorted(_CLOSED_THEN_RECORD.scans, key=lambda s: -s.ago)
    await teller.send_scans([s for s in scans if s.kind != "QC_FAILED"])
    await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "REJECTED")
    record = [s for s in scans if s.kind == "QC_FAILED"]
    if order == "record_then_appeal":
        await teller.send_scans(record)
        await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")
        await _appeal(harness, pipeline, told.rid, "The partner failed the check at pickup.")
    else:
        await _appeal(harness, pipeline, told.rid, "The partner failed the check at pickup.")
        await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "APPEALED")
        await teller.send_scans(record)
    case = await _case_until(
        harness,
        pipeline,
        told.rid,
        lambda c: c["state"] == "APPEALED" and (c["decision"] or {}).get("rule_id") == "L7",
    )
    assert case["decision"]["payout"] == 150_000, case["decision"]
    ledger = await any_order._ledger(harness, pipeline["reconciliation"], case["case_id"])
    assert ledger == {"seller_payable": -150_000, "partner_receivable": 150_000}, ledger
    emails = await _templates_once_settled(
        harness, pipeline, told.rid, {"decision", "settlement", "appeal_received"}
    )
    templates = [t for t, _ in emails]
    assert sorted(templates) == sorted(
        ["acknowledgement", "decision", "decision", "settlement", "appeal_received"]
    ), templates
    closure, decision = [b for t, b in emails if t == "decision"]
    assert "This email replaces our email of" in decision, decision
    [received] = [b for t, b in emails if t == "appeal_received"]
    if order == "appeal_then_record":
        # The appeal goes on against the decision: the decision says so, with the date the
        # acknowledgement gave, and offers no second appeal.
        assert "your appeal now stands against this decision" in decision, decision
        assert _result_date(received) in decision, (received, decision)
        assert "you can appeal this decision until" not in decision, decision
    assert "no manager needs to decide it" not in decision, decision
    _said_once(emails)
    # The one appeal is open: another is answered as a repeat, and a manager decides it.
    await _appeal(harness, pipeline, told.rid, "The payout should include the shipping fee.")
    repeated = await _templates_once_settled(harness, pipeline, told.rid, {"appeal_not_heard"})
    assert [t for t, _ in repeated].count("appeal_received") == 1, [t for t, _ in repeated]
    r = await pipeline["reconciliation"].client.post(
        f"/v1/cases/{case['case_id']}/appeal-decision",
        json={"overturn": False, "reason": "L7 paid the item value; nothing more is owed"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text
    done = await _case_until(harness, pipeline, told.rid, lambda c: c["state"] == "CLOSED")
    assert (done["decision"]["rule_id"], done["decision"]["payout"]) == ("L7", 150_000)
    ledger = await any_order._ledger(harness, pipeline["reconciliation"], case["case_id"])
    assert ledger == {"seller_payable": -150_000, "partner_receivable": 150_000}, ledger
