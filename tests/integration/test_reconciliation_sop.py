"""SOP v1 through the real pipeline: events produced to Kafka, consumed by a reconciliation
instance, the decision read back from its database and API. One row per rule (a representative
set; every rule is also covered at unit level in tests/unit/test_reconciliation_rules.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from shared.envelope import Envelope
from shared.events import EventPayload, FraudAssessed, ReturnInitiated, ReturnShipmentEvent
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.notifications import contact_opener
from tests.support.reconciliation import (
    SOP_SELLER_EMAIL,
    T0,
    Engine,
    assessed,
    engine,
    escalation,
    evidence_added,
    return_initiated,
    scan,
)
from tests.support.waiting import eventually

DAY = timedelta(days=1)
PICKUP = T0
DELIVERED = T0 + 2 * DAY


@pytest.fixture(scope="module")
async def sop(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "sop") as eng:
        yield eng


def seller_claim(
    eng: Engine,
    rid: str,
    *,
    scans: list[EventPayload],
    band: str = "LOW",
    ret: bool = True,
    item_value: int = 249_900,
    partner: str = "swiftship",
    **esc: Any,
) -> list[EventPayload | Envelope]:
    """The escalation first (so no proactive case opens), then the return, scans and the score."""
    filed = eng.envelope(escalation(rid, **esc))
    items: list[EventPayload | Envelope] = [filed]
    if ret:
        qc_done = any(getattr(s, "event_type", "") in ("QC_PASSED", "QC_FAILED") for s in scans)
        items.append(
            return_initiated(rid, item_value=item_value, partner=partner, qc_required=qc_done)
        )
    # The scans come from the return's own partner (another partner's would be refused).
    items += [
        s.model_copy(update={"partner_id": partner}) if isinstance(s, ReturnShipmentEvent) else s
        for s in scans
    ]
    items.append(assessed(filed, band))
    return items


def delivered(rid: str, weight: int = 1000, otp: bool | None = False) -> list[EventPayload]:
    """Delivery before pickup on purpose: with the pickup first, a NOT_RECEIVED claim would be
    (rightly) rejected as premature on the facts known at that moment."""
    return [
        scan(rid, "DELIVERED_TO_SELLER", DELIVERED, weight=weight, otp=otp),
        scan(rid, "PICKED_UP", PICKUP, weight=1000),
    ]


def qc(rid: str, result: str) -> EventPayload:
    return scan(rid, result, PICKUP - timedelta(minutes=10), weight=1000)


async def send_facts_then_score(eng: Engine, rid: str, items: list[Any]) -> None:
    """Intake's facts first and stored, then the fraud score: the two topics are consumed
    independently, and the table is about the decision on complete facts."""
    scores = [i for i in items if isinstance(i, FraudAssessed)]
    facts = [i for i in items if not isinstance(i, FraudAssessed)]
    await eng.send(*facts)
    n_scans = sum(1 for i in facts if isinstance(i, ReturnShipmentEvent))
    n_returns = sum(1 for i in facts if isinstance(i, ReturnInitiated))

    async def stored() -> bool:
        rows = await eng.sql(
            "SELECT (SELECT count(*) FROM shipment_events WHERE return_id = :r) AS s, "
            "(SELECT count(*) FROM returns WHERE return_id = :r) AS t, "
            "(SELECT count(*) FROM escalations WHERE return_id = :r) AS e",
            r=rid,
        )
        return bool(rows[0]["s"] == n_scans and rows[0]["t"] == n_returns and rows[0]["e"] >= 1)

    await eventually(stored, what="intake facts stored")
    await eng.send(*scores)


Scenario = Callable[[Engine, str], list[Any]]

# (name, events, expected state, rule_id, reason_code, payout)
TABLE: list[tuple[str, Scenario, str, str, str | None, int]] = [
    (
        "E3 filed after 168 h",
        lambda e, r: seller_claim(
            e, r, scans=delivered(r), filed_at=DELIVERED + timedelta(hours=168, minutes=1)
        ),
        "REJECTED",
        "E3",
        "CLAIM_WINDOW_EXPIRED",
        0,
    ),
    (
        "E3 boundary: exactly 168 h",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[qc(r, "QC_PASSED"), *delivered(r)],
            filed_at=DELIVERED + timedelta(hours=168),
        ),
        "CLOSED",
        "L9",
        None,
        249_900,
    ),
    (
        "E3b premature NOT_RECEIVED",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[scan(r, "PICKED_UP", PICKUP, weight=1000)],
            claim="NOT_RECEIVED",
            items=[],
            filed_at=PICKUP + 9 * DAY,
        ),
        "REJECTED",
        "E3b",
        "PREMATURE_CLAIM",
        0,
    ),
    (
        "E3c NOT_RECEIVED after 45 days",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[scan(r, "PICKED_UP", PICKUP, weight=1000)],
            claim="NOT_RECEIVED",
            items=[],
            filed_at=PICKUP + 46 * DAY,
        ),
        "REJECTED",
        "E3c",
        "CLAIM_WINDOW_EXPIRED",
        0,
    ),
    (
        "E4 evidence missing",
        lambda e, r: seller_claim(e, r, scans=delivered(r), items=["PHOTO"]),
        "AWAITING_EVIDENCE",
        "",
        "EVIDENCE_MISSING",
        0,
    ),
    (
        "E5 HIGH fraud band",
        lambda e, r: seller_claim(e, r, scans=delivered(r), band="HIGH"),
        "UNDER_REVIEW",
        "",
        "FRAUD_REVIEW",
        0,
    ),
    (
        "L1 partner declared lost",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[scan(r, "LOST", PICKUP + DAY), scan(r, "PICKED_UP", PICKUP, weight=1000)],
            claim="NOT_RECEIVED",
            items=[],
            filed_at=PICKUP + 3 * DAY,
        ),
        "CLOSED",
        "L1",
        None,
        249_900,
    ),
    (
        "L2 partner declared damaged",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[
                scan(r, "PICKED_UP", PICKUP, weight=1000),
                scan(r, "DAMAGED_IN_TRANSIT", PICKUP + DAY),
            ],
        ),
        "CLOSED",
        "L2",
        None,
        249_900,
    ),
    (
        "L3 never delivered",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[scan(r, "PICKED_UP", PICKUP, weight=1000)],
            claim="NOT_RECEIVED",
            items=[],
            filed_at=PICKUP + 12 * DAY,
        ),
        "CLOSED",
        "L3",
        None,
        249_900,
    ),
    (
        "L4 delivered with OTP",
        lambda e, r: seller_claim(
            e, r, scans=delivered(r, otp=True), claim="NOT_RECEIVED", items=[]
        ),
        "CLOSED",
        "L4",
        None,
        0,
    ),
    (
        "L5 delivered without OTP",
        lambda e, r: seller_claim(
            e, r, scans=delivered(r, otp=False), claim="NOT_RECEIVED", items=[]
        ),
        "CLOSED",
        "L5",
        None,
        249_900,
    ),
    (
        "L6 weight drop",
        lambda e, r: seller_claim(e, r, scans=delivered(r, weight=850)),
        "CLOSED",
        "L6",
        None,
        249_900,
    ),
    (
        "L8 QC passed, wrong item",
        lambda e, r: seller_claim(
            e, r, scans=[qc(r, "QC_PASSED"), *delivered(r)], claim="WRONG_ITEM"
        ),
        "CLOSED",
        "L8",
        None,
        249_900,
    ),
    (
        "L10 no QC, used item",
        lambda e, r: seller_claim(e, r, scans=delivered(r), claim="USED_ITEM"),
        "CLOSED",
        "L10",
        None,
        249_900,
    ),
    (
        "L11 no QC, damaged: half",
        lambda e, r: seller_claim(e, r, scans=delivered(r)),
        "CLOSED",
        "L11",
        None,
        124_950,
    ),
    (
        "E1 waits briefly for the QC result a QC return needs",
        lambda e, r: [
            *seller_claim(e, r, scans=delivered(r), ret=False),
            return_initiated(r, qc_required=True),
        ],
        "OPEN",
        "",
        "PENDING_SCANS",
        0,
    ),
    (
        "L7 QC failed, picked up anyway",
        lambda e, r: seller_claim(
            e, r, scans=[qc(r, "QC_FAILED"), *delivered(r)], claim="WRONG_ITEM"
        ),
        "CLOSED",
        "L7",
        None,
        249_900,
    ),
    (
        "cap: exactly 25,000 rupees is auto-paid",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[qc(r, "QC_PASSED"), *delivered(r)],
            claim="WRONG_ITEM",
            amount=2_500_000,
            item_value=2_500_000,
        ),
        "CLOSED",
        "L8",
        None,
        2_500_000,
    ),
    (
        "cap: one paisa more is escalated",
        lambda e, r: seller_claim(
            e,
            r,
            scans=[qc(r, "QC_PASSED"), *delivered(r)],
            claim="WRONG_ITEM",
            amount=2_500_001,
            item_value=2_500_001,
        ),
        "ESCALATED",
        "",
        "ABOVE_APPROVAL_CAP",
        0,
    ),
]


@pytest.mark.parametrize(
    ("name", "events", "state", "rule", "reason", "payout"), TABLE, ids=[row[0] for row in TABLE]
)
async def test_sop_rule_through_kafka(
    sop: Engine, name: str, events: Scenario, state: str, rule: str, reason: str | None, payout: int
) -> None:
    rid = uid("RET-SOP")
    await send_facts_then_score(sop, rid, events(sop, rid))
    case = await sop.wait_case(
        rid, lambda c: c["state"] == state and c["reason_code"] == reason, what=f"{name}: {state}"
    )
    assert case["payout"] == payout
    if rule:
        assert case["decision"]["rule_id"] == rule
        assert case["decision"]["policy_version"] == "sop-v1"
        assert case["decision"]["explanation"].startswith(f"About your return {rid}")
        assert case["decision"]["facts"]["return_known"] is True
    # Every transition is numbered, published and in the timeline.
    events_out = await sop.events(case["case_id"])
    versions = [e["payload"]["case_version"] for e in events_out]
    assert versions == list(range(1, case["version"] + 1))
    timeline = await sop.sql(
        "SELECT count(*) AS n FROM case_timeline WHERE case_id = :c "
        "AND kind NOT IN ('EMAIL_SENT', 'EMAIL_FAILED')",
        c=case["case_id"],
    )
    assert timeline[0]["n"] == case["version"]
    if state == "CLOSED" and payout:
        paid = await sop.sql(
            "SELECT -sum(amount) AS paid FROM ledger_entries WHERE case_id = :c "
            "AND account_type = 'seller_payable'",
            c=case["case_id"],
        )
        assert paid[0]["paid"] == payout


async def test_partner_cap_exceeded_marketplace_absorbs_the_rest(sop: Engine) -> None:
    rid = uid("RET-CAP")
    await send_facts_then_score(
        sop,
        rid,
        seller_claim(
            sop,
            rid,
            scans=[qc(rid, "QC_PASSED"), *delivered(rid)],
            claim="WRONG_ITEM",
            amount=800_000,
            item_value=900_000,
            partner="rapidroute",
        ),
    )
    case = await sop.wait_case(rid, lambda c: c["state"] == "CLOSED")
    d = case["decision"]
    assert (d["payout"], d["partner_debit"], d["marketplace_cost"]) == (800_000, 500_000, 300_000)
    lines = {
        r["account"]: r["amount"]
        for r in await sop.sql(
            "SELECT account, sum(amount) AS amount FROM ledger_entries WHERE case_id = :c"
            " GROUP BY account",
            c=case["case_id"],
        )
    }
    assert lines == {
        "protection_fund": 300_000,
        "seller_payable:S-SOP": -800_000,
        "partner_receivable:rapidroute": 500_000,
    }


async def test_p1_partner_declared_lost_opens_and_decides_a_proactive_case(sop: Engine) -> None:
    rid = uid("RET-P1")
    lost = sop.envelope(scan(rid, "LOST", PICKUP + DAY))
    await sop.send(return_initiated(rid), scan(rid, "PICKED_UP", PICKUP, weight=1000), lost)
    case = await sop.wait_case(rid, lambda c: c["waiting_for"] == "FRAUD_ASSESSMENT")
    assert (case["origin"], case["trigger_rule"], case["claim_type"]) == (
        "PROACTIVE",
        "P1",
        "NOT_RECEIVED",
    )
    await sop.send(assessed(lost))
    case = await sop.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert case["decision"]["rule_id"] == "L1" and case["payout"] == 249_900


async def test_p2_weight_drop_on_delivery_asks_for_evidence(sop: Engine) -> None:
    rid = uid("RET-P2")
    await sop.send(return_initiated(rid), *delivered(rid, weight=700))
    case = await sop.wait_case(rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    assert (case["origin"], case["trigger_rule"]) == ("PROACTIVE", "P2")
    assert case["reply_by"] == DELIVERED + timedelta(hours=168)
    requested = [
        e for e in await sop.events(case["case_id"]) if "evidence_requested" in e["ce_type"]
    ]
    assert requested and requested[0]["payload"]["checklist"]
    # The seller's own claim then takes over the case and is decided by L6.
    filed = sop.envelope(escalation(rid, claim="MISSING_ITEM", received_weight_g=700))
    await sop.send(filed, assessed(filed))
    case = await sop.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert case["decision"]["rule_id"] == "L6"
    assert await sop.sql("SELECT count(*) AS n FROM cases WHERE return_id = :r", r=rid) == [
        {"n": 1}
    ]


async def test_p3_picked_up_after_qc_failed_is_decided_by_l7(sop: Engine) -> None:
    rid = uid("RET-P3")
    pickup = sop.envelope(scan(rid, "PICKED_UP", PICKUP, weight=1000))
    await sop.send(return_initiated(rid), qc(rid, "QC_FAILED"), pickup, assessed(pickup))
    case = await sop.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert (case["trigger_rule"], case["decision"]["rule_id"]) == ("P3", "L7")


async def test_e2_later_escalation_is_merged_and_e2b_duplicate_is_rejected(sop: Engine) -> None:
    rid = uid("RET-E2")
    first = sop.envelope(escalation(rid, items=["PHOTO"]))
    await sop.send(first, return_initiated(rid), *delivered(rid), assessed(first))
    await sop.wait_case(rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
    # A second escalation about the same return while the case is open: merged, and its evidence
    # completes the checklist.
    second = sop.envelope(escalation(rid, items=["PHOTO", "LABEL_PHOTO"]))
    await sop.send(second, assessed(second))
    case = await sop.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert case["decision"]["rule_id"] == "L11"
    dispositions = {
        r["escalation_id"]: r["disposition"]
        for r in await sop.sql(
            "SELECT escalation_id, disposition FROM escalations WHERE return_id = :r", r=rid
        )
    }
    assert dispositions == {
        first.payload.escalation_id: "PRIMARY",  # type: ignore[attr-defined]
        second.payload.escalation_id: "MERGED",
    }  # type: ignore[attr-defined]
    # After the decision, a third one is a duplicate claim: rejected, the case is unchanged.
    third = sop.envelope(escalation(rid))
    await sop.send(third)
    case = await sop.wait_case(rid, lambda c: c["version"] == case["version"] + 1)
    assert case["state"] == "CLOSED" and case["payout"] == 124_950
    last = (await sop.events(case["case_id"]))[-1]["payload"]
    assert (last["change"], last["decision"]["rule_id"], last["decision"]["reason_code"]) == (
        "DUPLICATE_CLAIM_REJECTED",
        "E2b",
        "DUPLICATE_CLAIM",
    )
    assert await sop.sql("SELECT count(*) AS n FROM cases WHERE return_id = :r", r=rid) == [
        {"n": 1}
    ]


async def test_case_events_carry_what_notifications_need(sop: Engine) -> None:
    rid = uid("RET-EVT")
    await send_facts_then_score(sop, rid, seller_claim(sop, rid, scans=delivered(rid)))
    case = await sop.wait_case(rid, lambda c: c["state"] == "CLOSED")
    events = {e["ce_type"].split(".")[2]: e["payload"] for e in await sop.events(case["case_id"])}
    assert events["case_opened"]["expected_decision_by"]
    decided = events["case_decided"]
    # The address travels sealed, for notifications alone to open.
    assert "seller_email" not in decided and "@" not in decided["seller_contact"]
    assert contact_opener().unseal(decided["seller_contact"]) == SOP_SELLER_EMAIL
    assert decided["claimed_amount"] == 249_900
    assert decided["appeal_by"]
    assert decided["decision"]["outcome"] == "PARTIAL"
    assert "₹1,249.50" in decided["decision"]["explanation"]
    assert events["case_settled"]["ledger_transaction_id"]


async def test_a_revised_assessment_is_in_the_case_story_and_decides_an_undecided_case(
    sop: Engine,
) -> None:
    """Fraud re-assesses an escalation when it learns more about a party: a decided case keeps
    its decision and its timeline says why the desk may revisit it; an undecided case is
    decided on the latest band."""
    decided = uid("RET-REV")
    items = seller_claim(sop, decided, scans=delivered(decided))
    await send_facts_then_score(sop, decided, items)
    before = await sop.wait_case(decided, lambda c: c["state"] == "CLOSED", what="decided case")
    first = next(i for i in items if isinstance(i, FraudAssessed))
    filed = next(i for i in items if isinstance(i, Envelope))
    revision = assessed(filed, "HIGH", at=first.assessed_at + timedelta(days=2)).model_copy(
        update={"revision": 1, "revises": first.assessment_id}
    )
    await sop.send(revision, revision)  # redelivered: one entry
    notes = await eventually(
        lambda: sop.sql(
            "SELECT reason, data FROM case_timeline WHERE case_id = :c "
            "AND kind = 'FRAUD_REASSESSED'",
            c=before["case_id"],
        ),
        what="FRAUD_REASSESSED in the timeline",
    )
    assert len(notes) == 1 and notes[0]["data"]["band"] == "HIGH"
    assert "revision 1" in notes[0]["reason"]
    after = await sop.case(decided)
    assert after is not None
    assert (after["state"], after["payout"]) == ("CLOSED", before["payout"])
    # The queue's fraud band follows the revision: the desk finds paid claims found HIGH later.
    assert (before["fraud_band"], after["fraud_band"]) == ("LOW", "HIGH")

    # Undecided: the claim waits for its evidence when a revision turns it HIGH.
    waiting = uid("RET-REV")
    items = seller_claim(sop, waiting, scans=delivered(waiting), items=["PHOTO"])
    await send_facts_then_score(sop, waiting, items)
    await sop.wait_case(waiting, lambda c: c["state"] == "AWAITING_EVIDENCE", what="waiting")
    first = next(i for i in items if isinstance(i, FraudAssessed))
    filed = next(i for i in items if isinstance(i, Envelope))
    await sop.send(
        assessed(filed, "HIGH", at=first.assessed_at + timedelta(hours=1)).model_copy(
            update={"revision": 1, "revises": first.assessment_id}
        )
    )
    await sop.send(
        evidence_added(
            filed.payload, ["UNBOXING_VIDEO", "LABEL_PHOTO"], first.assessed_at + timedelta(hours=2)
        )
    )
    case = await sop.wait_case(
        waiting, lambda c: c["state"] == "UNDER_REVIEW", what="the latest band decides"
    )
    assert case["reason_code"] == "FRAUD_REVIEW"
