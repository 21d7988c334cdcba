"""Every number in sop-v1 at its edge: at the threshold, one unit below and one unit above (a
second, a gram, a paisa), over pure facts snapshots. The rows the rule-by-rule table
(`test_reconciliation_rules.py`) leaves out: the just-inside side of each window, the weights
where the 50 g and the 10 % terms cross, the partner caps exactly and one paisa over, a 50 %
payout on the approval cap, and times given with India's +05:30 offset near midnight.

The matrix, cell by cell, is in `bench-results/sopbound-20261207w31/matrix.md`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.reconciliation.policy.explain import explain
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import (
    Step,
    assign_liability,
    compute_amounts,
    evaluate_claim,
    has_weight_drop,
)
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import ClaimType, FraudBand, LiableParty, Outcome

P = SOP_V1
IST = timezone(timedelta(hours=5, minutes=30))
# 23:59:30 in India on 1 Nov is 18:29:30 UTC the same day: a date read in UTC is the same day,
# one read a minute later in India is the next.
PICKUP = datetime(2026, 11, 1, 23, 59, 30, tzinfo=IST)
SECOND = timedelta(seconds=1)


def facts(**over: Any) -> Facts:
    """A DAMAGED claim with an unboxing video, picked up just before midnight in India and
    delivered two days later at the same weight, no QC (L11 unless a test says otherwise)."""
    base = Facts(
        return_known=True,
        seller_id="S1",
        buyer_id="B1",
        partner_id="swiftship",
        category="electronics",
        item_value=249_900,
        qc_required=False,
        claim_type=ClaimType.DAMAGED,
        claimed_amount=249_900,
        filed_at=PICKUP + timedelta(days=3),
        evidence_counts={"UNBOXING_VIDEO": 1},
        received_weight_g=None,
        pickup_at=PICKUP,
        pickup_weight_g=1000,
        qc_result=None,
        picked_up_after_qc=True,
        delivered_at=PICKUP + timedelta(days=2),
        delivered_weight_g=1000,
        pod_otp_verified=False,
        fraud_band=FraudBand.LOW,
    )
    return replace(base, **over)


def not_received(filed_after_pickup: timedelta) -> Facts:
    return facts(
        claim_type=ClaimType.NOT_RECEIVED,
        evidence_counts={},
        delivered_at=None,
        delivered_weight_g=None,
        pod_otp_verified=None,
        filed_at=PICKUP + filed_after_pickup,
    )


def _rule(f: Facts) -> tuple[Step, str, str | None]:
    v = evaluate_claim(f, P)
    return v.step, v.rule_id, v.reason_code


# ---------------------------------------------------------------------------------------------
# Windows: E3 (168 h after delivery), E3b / L3 (10 days after pickup), E3c (45 days)
# ---------------------------------------------------------------------------------------------

DELIVERED = PICKUP + timedelta(days=2)
WEEK = timedelta(hours=168)


@pytest.mark.parametrize(
    ("filed", "expected"),
    [
        (DELIVERED + WEEK - SECOND, (Step.DECIDE, "L11", None)),
        (DELIVERED + WEEK, (Step.DECIDE, "L11", None)),
        (DELIVERED + WEEK + SECOND, (Step.REJECT, "E3", "CLAIM_WINDOW_EXPIRED")),
        # The same instants stated in UTC: the offset a time is written with changes nothing.
        ((DELIVERED + WEEK).astimezone(UTC), (Step.DECIDE, "L11", None)),
        ((DELIVERED + WEEK + SECOND).astimezone(UTC), (Step.REJECT, "E3", "CLAIM_WINDOW_EXPIRED")),
    ],
    ids=["168h-1s", "168h", "168h+1s", "168h-utc", "168h+1s-utc"],
)
def test_e3_window_at_its_edge(filed: datetime, expected: tuple[Step, str, str | None]) -> None:
    assert _rule(facts(filed_at=filed)) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (timedelta(days=10) - SECOND, (Step.REJECT, "E3b", "PREMATURE_CLAIM")),
        (timedelta(days=10), (Step.DECIDE, "L3", None)),
        (timedelta(days=10) + SECOND, (Step.DECIDE, "L3", None)),
        (timedelta(days=45) - SECOND, (Step.DECIDE, "L3", None)),
        (timedelta(days=45), (Step.DECIDE, "L3", None)),
        (timedelta(days=45) + SECOND, (Step.REJECT, "E3c", "CLAIM_WINDOW_EXPIRED")),
    ],
    ids=["10d-1s", "10d", "10d+1s", "45d-1s", "45d", "45d+1s"],
)
def test_not_received_windows_at_their_edges(
    after: timedelta, expected: tuple[Step, str, str | None]
) -> None:
    assert _rule(not_received(after)) == expected


def test_a_not_received_claim_delivered_late_is_still_held_to_the_45_days() -> None:
    """E3c counts from pickup whether or not a delivery scan came (L4/L5 only after it)."""
    f = replace(
        not_received(timedelta(days=45) + SECOND),
        delivered_at=PICKUP + timedelta(days=3),
        pod_otp_verified=False,
    )
    assert _rule(f) == (Step.REJECT, "E3c", "CLAIM_WINDOW_EXPIRED")
    assert _rule(replace(f, filed_at=PICKUP + timedelta(days=45)))[1] == "L5"


# ---------------------------------------------------------------------------------------------
# Weight drop: delivered < pickup − max(50 g, 10 % of pickup); the terms cross at 500 g
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pickup", "delivered", "drop"),
    [
        (499, 449, False),  # 50 g: max(50 g, 49.9 g) = 50 g, not more
        (499, 448, True),
        (500, 450, False),  # both terms are 50 g
        (500, 449, True),
        (501, 451, False),  # 50 g < 50.1 g (10 %)
        (501, 450, True),  # 51 g > 50.1 g
        (999, 900, False),  # 99 g < 99.9 g
        (999, 899, True),  # 100 g > 99.9 g
        (1001, 901, False),  # 100 g < 100.1 g
        (1001, 900, True),  # 101 g > 100.1 g
        (50, 0, False),  # a 50 g parcel weighed empty: 50 g is not more than 50 g
        (51, 0, True),
    ],
)
def test_weight_drop_where_the_50_g_and_10_percent_terms_cross(
    pickup: int, delivered: int, drop: bool
) -> None:
    f = facts(pickup_weight_g=pickup, delivered_weight_g=delivered)
    assert has_weight_drop(f, P) is drop
    assert assign_liability(f, P) == ("L6" if drop else "L11")


@pytest.mark.parametrize(("received", "rule"), [(450, "L10"), (449, "L6")])
def test_the_sellers_received_weight_stands_in_for_the_partners_at_the_same_edge(
    received: int, rule: str
) -> None:
    f = facts(
        claim_type=ClaimType.MISSING_ITEM,
        pickup_weight_g=500,
        delivered_weight_g=None,
        received_weight_g=received,
    )
    assert _rule(f) == (Step.DECIDE, rule, None)


def test_the_partners_delivery_weight_wins_over_the_sellers() -> None:
    f = facts(
        claim_type=ClaimType.MISSING_ITEM,
        pickup_weight_g=500,
        delivered_weight_g=450,
        received_weight_g=100,
    )
    assert _rule(f) == (Step.DECIDE, "L10", None)


# ---------------------------------------------------------------------------------------------
# Amounts: base, integer division, partner caps, the approval cap
# ---------------------------------------------------------------------------------------------


def _amounts(claimed: int, item: int | None, pct: int, party: LiableParty, partner: str) -> Any:
    return compute_amounts(
        claimed_amount=claimed,
        item_value=item,
        payout_pct=pct,
        liable_party=party,
        partner_id=partner,
        p=P,
    )


@pytest.mark.parametrize(
    ("claimed", "item", "base"),
    [(99_999, 100_000, 99_999), (100_000, 100_000, 100_000), (100_001, 100_000, 100_000)],
)
def test_base_is_the_lower_of_claim_and_item_value_at_equality(
    claimed: int, item: int, base: int
) -> None:
    a = _amounts(claimed, item, 100, LiableParty.PARTNER, "swiftship")
    assert (a.base, a.payout) == (base, base)


@pytest.mark.parametrize(
    ("base", "payout"), [(1, 0), (2, 1), (3, 1), (123_457, 61_728), (249_901, 124_950)]
)
def test_half_of_odd_paise_is_floored_to_the_paisa(base: int, payout: int) -> None:
    a = _amounts(base, base, 50, LiableParty.BUYER, "swiftship")
    assert (a.payout, a.buyer_receivable, a.marketplace_cost) == (payout, payout, 0)
    assert a.outcome is Outcome.PARTIAL


CAPS = [("swiftship", 1_000_000), ("rapidroute", 500_000), ("desipost", 250_000)]


@pytest.mark.parametrize(("partner", "cap"), CAPS)
@pytest.mark.parametrize("over", [-1, 0, 1])
def test_partner_caps_exactly_and_one_paisa_either_side(partner: str, cap: int, over: int) -> None:
    payout = cap + over
    a = _amounts(payout, payout, 100, LiableParty.PARTNER, partner)
    assert a.payout == payout
    assert a.partner_debit == min(payout, cap)
    assert a.marketplace_cost == max(0, over)
    assert a.partner_debit + a.buyer_receivable + a.marketplace_cost == a.payout


@pytest.mark.parametrize(("partner", "cap"), CAPS)
def test_the_paragraph_splits_the_cost_only_above_the_cap(partner: str, cap: int) -> None:
    """At the cap the partner bears it all; one paisa over, the paragraph names the ₹0.01 the
    marketplace bears (the email quotes the paragraph)."""
    f = facts(partner_id=partner, qc_result="PASSED", claimed_amount=cap, item_value=cap)
    at = explain(evaluate_claim(f, P), f, P, return_id="RET-1")
    assert "The cost is recovered from the logistics partner" in at, at
    assert "marketplace" not in at, at
    over = replace(f, claimed_amount=cap + 1, item_value=cap + 1)
    text = explain(evaluate_claim(over, P), over, P, return_id="RET-1")
    assert "the marketplace bears the remaining ₹0.01" in text, text


@pytest.mark.parametrize(
    ("base", "step", "payout"),
    [
        (5_000_000, Step.DECIDE, 2_500_000),
        (5_000_001, Step.DECIDE, 2_500_000),  # half of an odd base, floored: at the cap
        (5_000_002, Step.PROPOSE, 2_500_001),
    ],
)
def test_a_half_payout_meets_the_approval_cap_after_the_floor(
    base: int, step: Step, payout: int
) -> None:
    v = evaluate_claim(facts(claimed_amount=base, item_value=base), P)
    assert (v.rule_id, v.step) == ("L11", step)
    assert v.amounts is not None and v.amounts.payout == payout


# ---------------------------------------------------------------------------------------------
# What the seller is told at an edge
# ---------------------------------------------------------------------------------------------


def test_e3b_gives_a_time_from_which_filing_again_is_in_time() -> None:
    """E3b's paragraph gives the moment from which to file again, to the minute. The 10 days end
    at 23:59:30 IST: a time shown as 11:59 PM would invite a filing 30 seconds early (closed
    again as premature), so the minute shown is the first one wholly inside the window."""
    f = not_received(timedelta(days=5))
    text = explain(evaluate_claim(f, P), f, P, return_id="RET-1")
    assert "from 12 Nov 2026, 12:00 AM IST (11 Nov 2026, 18:30 UTC)" in text, text
    # Filing at the minute shown is in time.
    refiled = replace(f, filed_at=datetime(2026, 11, 12, 0, 0, tzinfo=IST))
    assert _rule(refiled) == (Step.DECIDE, "L3", None)


def test_e3b_on_a_whole_minute_is_shown_as_it_is() -> None:
    pickup = datetime(2026, 11, 1, 23, 59, tzinfo=IST)
    f = replace(not_received(timedelta(days=5)), pickup_at=pickup)
    text = explain(evaluate_claim(f, P), f, P, return_id="RET-1")
    assert "from 11 Nov 2026, 11:59 PM IST (11 Nov 2026, 18:29 UTC)" in text, text


def test_e3_filed_seconds_late_gives_both_moments_to_the_second() -> None:
    """Filed 20 seconds after the 168 hours: to the minute, "filed on … 12:10 AM" beside "ended
    at … 12:10 AM" gives no reason for the closure; both are then stated to the second."""
    end = DELIVERED + WEEK
    f = facts(filed_at=end + timedelta(seconds=20))
    text = explain(evaluate_claim(f, P), f, P, return_id="RET-1")
    assert "filed on 10 Nov 2026, 11:59:50 PM IST (10 Nov 2026, 18:29:50 UTC)" in text, text
    assert "ended at 10 Nov 2026, 11:59:30 PM IST (10 Nov 2026, 18:29:30 UTC)" in text, text
    # A minute or more apart, the minute says it: no seconds.
    later = facts(filed_at=end + timedelta(minutes=1))
    text = explain(evaluate_claim(later, P), later, P, return_id="RET-1")
    assert "filed on 11 Nov 2026, 12:00 AM IST" in text and ":30 PM" not in text, text


def test_e3c_filed_seconds_late_gives_both_moments_to_the_second() -> None:
    f = not_received(timedelta(days=45, seconds=10))
    text = explain(evaluate_claim(f, P), f, P, return_id="RET-1")
    assert "that is by 16 Dec 2026, 11:59:30 PM IST (16 Dec 2026, 18:29:30 UTC)" in text, text
    assert "was filed on 16 Dec 2026, 11:59:40 PM IST (16 Dec 2026, 18:29:40 UTC)" in text, text
