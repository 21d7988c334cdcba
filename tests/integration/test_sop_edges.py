"""sop-v1's numbers at their edges through Kafka and PostgreSQL: a representative cell of each
threshold at, just below and just above it (a second, a gram, a paisa), with times written in
India's +05:30 offset near midnight, facts arriving in any order, and the engine's clock moved
to the exact instant a wait ends. The pure rules are pinned cell by cell in
`tests/unit/test_sop_edges.py`; the matrix is in `bench-results/sopbound-20261207w31/`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    Engine,
    appeal,
    assessed,
    engine,
    escalation,
    evidence_added,
    return_initiated,
    scan,
)
from tests.support.waiting import eventually

IST = timezone(timedelta(hours=5, minutes=30))
SECOND = timedelta(seconds=1)
# Delivered to the seller ten minutes after midnight in India (18:40 UTC the day before), in the
# past of the engine's clock (T0 + 3 days, 5 Nov 2026).
DELIVERED = datetime(2026, 10, 27, 0, 10, 0, tzinfo=IST)
PICKUP = DELIVERED - timedelta(days=1, minutes=20)


@pytest.fixture(scope="module")
async def edges(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "edges") as eng:
        yield eng


async def _claim(
    eng: Engine,
    rid: str,
    *,
    scans: list[Any],
    item_value: int = 249_900,
    partner: str = "swiftship",
    **esc: Any,
) -> Any:
    """The escalation, then the scans (in the order given), the return and the score."""
    filed = eng.envelope(escalation(rid, **esc))
    await eng.send(
        filed,
        *scans,
        return_initiated(rid, item_value=item_value, partner=partner),
        assessed(filed),
    )
    return filed


def _delivered(
    rid: str, *, pickup_g: int = 1000, delivered_g: int = 1000, partner: str = "swiftship"
) -> list[Any]:
    # The delivery scan first: a pickup scan seconds behind it still counts (facts in any order).
    return [
        scan(rid, "DELIVERED_TO_SELLER", DELIVERED, weight=delivered_g, otp=False, partner=partner),
        scan(rid, "PICKED_UP", PICKUP, weight=pickup_g, partner=partner),
    ]


async def _settled(eng: Engine, rid: str) -> dict[str, Any]:
    return await eng.wait_case(rid, lambda c: c["state"] in ("CLOSED", "REJECTED", "ESCALATED"))


@pytest.mark.parametrize(
    ("after", "outcome"),
    [
        (timedelta(hours=168) - SECOND, ("CLOSED", "L11")),
        (timedelta(hours=168), ("CLOSED", "L11")),
        (timedelta(hours=168) + SECOND, ("REJECTED", "E3")),
    ],
    ids=["168h-1s", "168h", "168h+1s"],
)
async def test_e3_window_in_india_time_at_its_edge(
    edges: Engine, after: timedelta, outcome: tuple[str, str]
) -> None:
    """The delivery scan in UTC, the filing in +05:30 just after midnight: the window is 168 h
    between the two instants whatever offset each is written in."""
    rid = uid("RET-EDGE-E3")
    scans = [
        scan(rid, "DELIVERED_TO_SELLER", DELIVERED.astimezone(UTC), weight=1000, otp=False),
        scan(rid, "PICKED_UP", PICKUP.astimezone(UTC), weight=1000),
    ]
    await _claim(edges, rid, scans=scans, filed_at=(DELIVERED + after).astimezone(IST))
    case = await _settled(edges, rid)
    assert (case["state"], case["decision"]["rule_id"]) == outcome, case


@pytest.mark.parametrize(
    ("after", "outcome"),
    [
        (timedelta(days=10) - SECOND, ("REJECTED", "E3b")),
        (timedelta(days=10), ("CLOSED", "L3")),
        (timedelta(days=45), ("CLOSED", "L3")),
        (timedelta(days=45) + SECOND, ("REJECTED", "E3c")),
    ],
    ids=["10d-1s", "10d", "45d", "45d+1s"],
)
async def test_not_received_windows_in_india_time_at_their_edges(
    edges: Engine, after: timedelta, outcome: tuple[str, str]
) -> None:
    rid = uid("RET-EDGE-NR")
    pickup = datetime(2026, 9, 15, 23, 59, 59, tzinfo=IST)
    await _claim(
        edges,
        rid,
        scans=[scan(rid, "PICKED_UP", pickup, weight=1000)],
        claim="NOT_RECEIVED",
        items=[],
        filed_at=(pickup + after).astimezone(UTC),
    )
    case = await _settled(edges, rid)
    assert (case["state"], case["decision"]["rule_id"]) == outcome, case
    if outcome[1] == "L3":
        assert case["payout"] == 249_900


@pytest.mark.parametrize(("delivered_g", "rule"), [(450, "L11"), (449, "L6")])
async def test_weight_drop_at_500_g_where_both_terms_are_50_g(
    edges: Engine, delivered_g: int, rule: str
) -> None:
    rid = uid("RET-EDGE-W")
    await _claim(
        edges,
        rid,
        scans=_delivered(rid, pickup_g=500, delivered_g=delivered_g),
        filed_at=DELIVERED + timedelta(days=1),
    )
    case = await _settled(edges, rid)
    assert (case["state"], case["decision"]["rule_id"]) == ("CLOSED", rule), case


async def _ledger(eng: Engine, case_id: str) -> dict[str, int]:
    rows = await eng.sql(
        "SELECT account, sum(amount) AS amount FROM ledger_entries WHERE case_id = :c"
        " GROUP BY account",
        c=case_id,
    )
    return {r["account"]: int(r["amount"]) for r in rows}


@pytest.mark.parametrize(
    ("partner", "cap"), [("swiftship", 1_000_000), ("rapidroute", 500_000), ("desipost", 250_000)]
)
@pytest.mark.parametrize("over", [0, 1])
async def test_partner_caps_exactly_and_one_paisa_over_in_the_ledger(
    edges: Engine, partner: str, cap: int, over: int
) -> None:
    """L6 (the partner liable, 100 %): at the cap the partner owes the whole payout; one paisa
    over, the marketplace absorbs that paisa. The ledger balances either way."""
    rid = uid("RET-EDGE-CAP")
    payout = cap + over
    await _claim(
        edges,
        rid,
        scans=_delivered(rid, delivered_g=600, partner=partner),
        partner=partner,
        item_value=payout,
        amount=payout,
        filed_at=DELIVERED + timedelta(days=1),
    )
    case = await _settled(edges, rid)
    d = case["decision"]
    assert (case["state"], d["rule_id"]) == ("CLOSED", "L6"), case
    assert (d["payout"], d["partner_debit"], d["marketplace_cost"]) == (payout, cap, over), d
    lines = await _ledger(edges, case["case_id"])
    assert sum(lines.values()) == 0
    assert lines[f"partner_receivable:{partner}"] == cap
    assert lines["seller_payable:S-SOP"] == -payout
    assert lines.get("protection_fund", 0) == over, lines


@pytest.mark.parametrize(
    ("base", "state", "payout"),
    [(5_000_001, "CLOSED", 2_500_000), (5_000_002, "ESCALATED", 2_500_001)],
)
async def test_a_half_payout_on_the_approval_cap_after_the_floor(
    edges: Engine, base: int, state: str, payout: int
) -> None:
    """L11 pays half, floored to the paisa: half of ₹50,000.01 is exactly ₹25,000 (settled);
    half of ₹50,000.02 is one paisa over (an ops_manager approves)."""
    rid = uid("RET-EDGE-HALF")
    await _claim(
        edges,
        rid,
        scans=_delivered(rid),
        item_value=base,
        amount=base,
        filed_at=DELIVERED + timedelta(days=1),
    )
    case = await _settled(edges, rid)
    assert case["state"] == state, case
    # Above the cap the decision is a proposal until a manager approves it.
    decided = case["proposal"] if state == "ESCALATED" else case["decision"]
    assert (decided["rule_id"], decided["payout"]) == ("L11", payout), decided
    if state == "ESCALATED":
        assert case["reason_code"] == "ABOVE_APPROVAL_CAP", case


@pytest.mark.parametrize(("late", "state"), [(timedelta(0), "APPEALED"), (SECOND, "CLOSED")])
async def test_an_appeal_filed_at_the_appeal_by_is_heard_one_second_later_is_late(
    edges: Engine, late: timedelta, state: str
) -> None:
    """The appeal window is 7 days from the rejection, its last instant included. The case
    closes when the window ends (its timer), and an appeal filed in time that is read after
    that is still heard."""
    rid = uid("RET-EDGE-APP")
    filed = await _claim(edges, rid, scans=_delivered(rid), filed_at=DELIVERED + timedelta(days=8))
    case = await edges.wait_case(rid, lambda c: c["state"] == "REJECTED")
    appeal_by = case["appeal_by"]
    assert appeal_by == case["decided_at"] + timedelta(days=7)
    await edges.advance(appeal_by - edges.clock.now())
    case = await edges.wait_case(rid, lambda c: c["state"] == "CLOSED")
    await edges.send(appeal(filed.payload, (appeal_by + late).astimezone(IST)))
    if state == "APPEALED":
        case = await edges.wait_case(rid, lambda c: c["state"] == "APPEALED")
    else:

        async def changes() -> list[str]:
            return [e["payload"].get("change") for e in await edges.events(case["case_id"])]

        await eventually(changes, until=lambda c: "APPEAL_LATE" in c, what="the late appeal")
        assert (await edges.case(rid) or {})["state"] == "CLOSED"


async def test_the_evidence_reply_by_is_72_hours_to_the_second(edges: Engine) -> None:
    """Evidence arriving one second before the reply-by decides the claim; the other claim,
    silent, is closed at the reply-by itself."""
    answered, silent = uid("RET-EDGE-E4A"), uid("RET-EDGE-E4S")
    esc = {}
    for rid in (answered, silent):
        esc[rid] = await _claim(
            edges,
            rid,
            scans=_delivered(rid),
            items=["PHOTO"],
            filed_at=DELIVERED + timedelta(days=1),
        )
    start = edges.clock.now()
    for rid in (answered, silent):
        case = await edges.wait_case(rid, lambda c: c["state"] == "AWAITING_EVIDENCE")
        assert case["reply_by"] - case["updated_at"] == timedelta(hours=72), case
    reply_by = case["reply_by"]
    assert reply_by >= start + timedelta(hours=72)
    await edges.advance(reply_by - SECOND - edges.clock.now())
    await edges.send(
        evidence_added(esc[answered].payload, ["PHOTO", "LABEL_PHOTO"], edges.clock.now())
    )
    case = await edges.wait_case(answered, lambda c: c["state"] == "CLOSED")
    assert case["decision"]["rule_id"] == "L11"
    await asyncio.sleep(0.3)  # timer rounds one second before the reply-by
    assert (await edges.case(silent) or {})["state"] == "AWAITING_EVIDENCE"
    await edges.advance(SECOND)
    case = await edges.wait_case(silent, lambda c: c["state"] == "REJECTED")
    assert case["reason_code"] == "EVIDENCE_NOT_PROVIDED"


async def test_the_facts_wait_ends_at_48_hours_to_the_second(edges: Engine) -> None:
    """E1: the delivery scan never comes. One second before the 48 hours the case still waits;
    at the 48 hours a person reviews it (`MISSING_FACTS`)."""
    rid = uid("RET-EDGE-E1")
    filed = edges.envelope(escalation(rid, filed_at=edges.clock.now()))
    await edges.send(filed, return_initiated(rid), assessed(filed))
    case = await edges.wait_case(
        rid, lambda c: c["waiting_for"] == "PENDING_FACTS" and c["fraud_band"] is not None
    )
    assert case["timer_kind"] == "FACTS_WAIT"
    assert case["timer_due_at"] - case["opened_at"] == timedelta(hours=48), case
    await edges.advance(case["timer_due_at"] - SECOND - edges.clock.now())
    await asyncio.sleep(0.3)  # timer rounds one second before the end of the wait
    assert (await edges.case(rid) or {})["state"] == "OPEN"
    await edges.advance(SECOND)
    case = await edges.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "MISSING_FACTS"


async def test_the_fraud_wait_ends_at_5_minutes_to_the_second(edges: Engine) -> None:
    """E5b: no assessment. Decidable at once (every fact known), the case waits 5 minutes for
    fraud's score: one second before, still waiting; at 5 minutes, a person reviews it."""
    rid = uid("RET-EDGE-E5B")
    filed = edges.envelope(escalation(rid, filed_at=DELIVERED + timedelta(days=1)))
    await edges.send(filed, *_delivered(rid), return_initiated(rid))
    case = await edges.wait_case(rid, lambda c: c["waiting_for"] == "FRAUD_ASSESSMENT")
    assert case["timer_due_at"] - case["updated_at"] == timedelta(minutes=5), case
    await edges.advance(case["timer_due_at"] - SECOND - edges.clock.now())
    await asyncio.sleep(0.3)
    assert (await edges.case(rid) or {})["state"] == "OPEN"
    await edges.advance(SECOND)
    case = await edges.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert (case["reason_code"], case["payout"]) == ("FRAUD_ASSESSMENT_MISSING", 0)
