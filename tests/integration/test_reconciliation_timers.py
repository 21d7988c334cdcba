"""Durable timers under a ManualClock: the facts wait, the fraud wait, evidence reply-by, the
review SLA (paused while awaiting evidence), the appeal window — and a restart in between."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from shared.events import CaseRejected
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    Engine,
    assessed,
    engine,
    escalation,
    evidence_added,
    return_initiated,
    scan,
    start_app,
)
from tests.support.waiting import eventually

H = timedelta(hours=1)


@pytest.fixture(scope="module")
async def clocked(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "timers") as eng:
        yield eng


def scans(rid: str) -> list[object]:
    return [
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, otp=False),
        scan(rid, "PICKED_UP", T0, weight=1000),
    ]


async def test_e1_missing_facts_go_to_review_after_48_hours_then_facts_decide(
    clocked: Engine,
) -> None:
    rid = uid("RET-E1")
    filed = clocked.envelope(escalation(rid))
    await clocked.send(filed, assessed(filed))
    await clocked.wait_case(rid, lambda c: c["waiting_for"] == "PENDING_FACTS" and c["fraud_band"])
    await clocked.advance(47 * H)
    await clocked.send(return_initiated(rid))  # a fact arrives, but not all of them
    await clocked.wait_case(rid, lambda c: c["buyer_id"] == "B-SOP")
    case = await clocked.case(rid)
    assert case is not None and case["state"] == "OPEN"
    await clocked.advance(1 * H + timedelta(minutes=1))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "MISSING_FACTS"
    # The scans turn up late: the review the SOP opened for want of them ends in a decision.
    await clocked.send(*scans(rid))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert case["decision"]["rule_id"] == "L11"


async def test_e1_a_qc_result_never_scanned_is_waited_for_the_scan_wait_then_l10_decides(
    clocked: Engine,
) -> None:
    # The return asked for QC; the partner scanned pickup and delivery but no QC. The SOP needs
    # only the return and the delivery: after the short scan wait, "no QC at pickup" (L10).
    rid = uid("RET-E1-QC")
    filed = clocked.envelope(escalation(rid, claim="WRONG_ITEM"))
    await clocked.send(filed, return_initiated(rid, qc_required=True), *scans(rid))
    await clocked.send(assessed(filed))
    case = await clocked.wait_case(
        rid, lambda c: c["waiting_for"] == "PENDING_SCANS" and c["fraud_band"]
    )
    assert case["state"] == "OPEN" and case["timer_kind"] == "SCAN_WAIT"
    await clocked.advance(timedelta(seconds=50))
    await asyncio.sleep(0.3)  # a few timer rounds at the new time
    case = await clocked.case(rid)
    assert case is not None and case["state"] == "OPEN"
    await clocked.advance(timedelta(seconds=11))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert (case["decision"]["rule_id"], case["decision"]["liable_party"]) == ("L10", "BUYER")
    assert case["payout"] == 249_900


async def test_e1_a_pickup_scan_arriving_after_the_delivery_scan_still_decides(
    clocked: Engine,
) -> None:
    # Out of order: the delivery scan (light) lands first, the pickup scan (heavy) a moment
    # later, inside the scan wait: the weight drop decides (L6), not "no QC" (L11).
    rid = uid("RET-E1-OOO")
    filed = clocked.envelope(escalation(rid))
    await clocked.send(
        filed,
        return_initiated(rid),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=600, otp=False),
        assessed(filed),
    )
    await clocked.wait_case(rid, lambda c: c["waiting_for"] == "PENDING_SCANS" and c["fraud_band"])
    await clocked.send(scan(rid, "PICKED_UP", T0, weight=1000))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert (case["decision"]["rule_id"], case["decision"]["liable_party"]) == ("L6", "PARTNER")


async def test_e5b_no_assessment_after_5_minutes_goes_to_review(clocked: Engine) -> None:
    rid = uid("RET-E5B")
    filed = clocked.envelope(escalation(rid))
    await clocked.send(filed, return_initiated(rid), *scans(rid))
    await clocked.wait_case(rid, lambda c: c["waiting_for"] == "FRAUD_ASSESSMENT")
    await clocked.advance(4 * timedelta(minutes=1))
    await asyncio.sleep(0.3)  # a few timer rounds at the new time
    case = await clocked.case(rid)
    assert case is not None and case["state"] == "OPEN"
    await clocked.advance(timedelta(minutes=1, seconds=1))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "FRAUD_ASSESSMENT_MISSING"
    assert case["payout"] == 0  # never auto-paid without an assessment
    await clocked.send(assessed(filed))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert case["payout"] == 124_950


async def test_evidence_before_reply_by_resumes_and_silence_rejects(clocked: Engine) -> None:
    answered, silent = uid("RET-E4A"), uid("RET-E4S")
    esc_answered = escalation(answered, items=["PHOTO"])
    for rid, esc in ((answered, esc_answered), (silent, escalation(silent, items=[]))):
        filed = clocked.envelope(esc)
        await clocked.send(filed, return_initiated(rid), *scans(rid), assessed(filed))
    reply_by = clocked.clock.now() + 72 * H
    for rid in (answered, silent):
        case = await clocked.wait_case(rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
        assert case["reply_by"] == reply_by
    await clocked.advance(71 * H)
    await clocked.send(evidence_added(esc_answered, ["PHOTO", "LABEL_PHOTO"], clocked.clock.now()))
    case = await clocked.wait_case(answered, lambda c: c["state"] == "CLOSED")
    assert case["decision"]["rule_id"] == "L11"
    await clocked.advance(1 * H + timedelta(seconds=1))
    case = await clocked.wait_case(silent, lambda c: c["state"] == "REJECTED")
    assert (case["reason_code"], case["decision"]["rule_id"]) == ("EVIDENCE_NOT_PROVIDED", "E4")
    # The closure carries the reply-by it passed, for the seller's email to restate.
    [closed] = [
        e
        for e in await clocked.events(case["case_id"])
        if e["ce_type"].endswith("case_rejected.v1")
    ]
    assert CaseRejected.model_validate(closed["payload"]).reply_by == reply_by


async def test_review_sla_pauses_while_awaiting_evidence_then_escalates(
    clocked: Engine, harness: Harness
) -> None:
    rid = uid("RET-SLA")
    filed = clocked.envelope(escalation(rid))
    await clocked.send(filed, return_initiated(rid), *scans(rid), assessed(filed, "HIGH"))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "FRAUD_REVIEW"
    agent = harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    await clocked.advance(40 * H)
    r = await clocked.client.post(
        f"/v1/cases/{case['case_id']}/evidence-requests",
        headers=agent,
        json={"checklist": ["A photo of the outer box"], "reason": "Box condition unclear."},
    )
    assert r.status_code == 200, r.text
    await clocked.advance(30 * H)  # paused: 30 h awaiting evidence do not count
    case = await clocked.case(rid)
    assert case is not None and case["state"] == "AWAITING_EVIDENCE"
    await clocked.send(evidence_added(filed.payload, ["PHOTO"], clocked.clock.now()))  # type: ignore[arg-type]
    case = await clocked.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "EVIDENCE_RECEIVED"
    await clocked.advance(7 * H + timedelta(minutes=59))  # 47 h 59 min under review in all
    await asyncio.sleep(0.3)  # a few timer rounds at the new time
    assert (await clocked.case(rid) or {})["state"] == "UNDER_REVIEW"
    await clocked.advance(timedelta(minutes=2))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "ESCALATED")
    assert case["sla_breached"] is True
    last = (await clocked.events(case["case_id"]))[-1]
    assert last["ce_type"].endswith("case_escalated.v1")
    assert last["payload"]["escalation_reason"] == "SLA_BREACHED"
    r = await clocked.client.get(
        "/v1/cases", params={"sla_breached": "true", "return_id": rid}, headers=agent
    )
    assert [c["case_id"] for c in r.json()["items"]] == [case["case_id"]]
    metrics = (await clocked.client.get("/metrics")).text
    assert "disputedesk_cases_sla_breached_total" in metrics


async def test_rejection_closes_when_the_appeal_window_ends(clocked: Engine) -> None:
    rid = uid("RET-WIN")
    filed = clocked.envelope(escalation(rid, filed_at=T0 + timedelta(days=20)))
    await clocked.send(filed, return_initiated(rid), *scans(rid))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "REJECTED")
    assert case["appeal_by"] == clocked.clock.now() + timedelta(days=7)
    await clocked.advance(timedelta(days=7, seconds=1))
    case = await clocked.wait_case(rid, lambda c: c["state"] == "CLOSED")
    assert case["reason_code"] == "CLAIM_WINDOW_EXPIRED"


async def test_timers_fire_after_a_restart(harness: Harness) -> None:
    """The deadline lives in the database: a new process fires it when the clock says so."""
    async with engine(harness, "restart") as eng:
        rid = uid("RET-RESTART")
        filed = eng.envelope(escalation(rid, items=[]))
        await eng.send(filed, return_initiated(rid), *scans(rid), assessed(filed))
        await eng.wait_case(rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
        pending = await eng.sql(
            "SELECT kind, due_at FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL"
        )
        assert [p["kind"] for p in pending] == ["EVIDENCE_REPLY"]
    # Leaving `engine` stopped the first process; a second one starts on the same database,
    # consumer group and clock.
    async with start_app(eng.settings, eng.clock) as (app, _client):
        eng.clock.advance(72 * H + timedelta(seconds=1))

        async def state() -> str | None:
            async with app.state.runtime.sessionmaker() as session:
                from sqlalchemy import text

                return (
                    await session.execute(
                        text("SELECT state FROM cases WHERE return_id = :r"), {"r": rid}
                    )
                ).scalar()

        assert (
            await eventually(
                state,
                until=lambda s: s == "REJECTED",
                what="evidence reply-by fired by the new process",
            )
            == "REJECTED"
        )
