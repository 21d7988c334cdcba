"""The plain-language paragraph a decision records and the seller's email quotes: amounts and
dates as the seller reads everything else we send (Indian digit grouping, India time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.reconciliation.policy.explain import explain, explain_manual
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import evaluate_claim
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import ClaimType, FraudBand, LiableParty
from shared.money import rupees

P = SOP_V1
# 20:00 UTC is 01:30 the next day in India: a date printed in UTC is a day early for the seller.
LATE_EVENING_UTC = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def _facts(**over: object) -> Facts:
    base = Facts(
        return_known=True,
        seller_id="S1",
        buyer_id="B1",
        partner_id="swiftship",
        category="electronics",
        item_value=18_000_000,
        qc_required=False,
        claim_type=ClaimType.DAMAGED,
        claimed_amount=18_000_000,
        filed_at=LATE_EVENING_UTC + timedelta(days=3),
        evidence_counts={"UNBOXING_VIDEO": 1},
        pickup_at=LATE_EVENING_UTC - timedelta(days=1),
        pickup_weight_g=1000,
        delivered_at=LATE_EVENING_UTC,
        delivered_weight_g=1000,
        fraud_band=FraudBand.LOW,
    )
    return replace(base, **over)  # type: ignore[arg-type]


def _explained(f: Facts) -> tuple[str, str]:
    verdict = evaluate_claim(f, P)
    return verdict.rule_id, explain(verdict, f, P, return_id="RET-1")


def test_a_partial_payout_names_its_amounts_in_indian_grouping() -> None:
    rule, text = _explained(_facts())
    assert rule == "L11"
    assert "we are paying you ₹90,000.00 (50 % of ₹1,80,000.00" in text


def test_e3b_says_exactly_when_the_seller_may_file_again_in_india_time() -> None:
    pickup = LATE_EVENING_UTC
    f = _facts(
        claim_type=ClaimType.NOT_RECEIVED,
        pickup_at=pickup,
        delivered_at=None,
        delivered_weight_g=None,
        filed_at=pickup + timedelta(days=5),
    )
    rule, text = _explained(f)
    assert rule == "E3b"
    # pickup + 10 days = 30 Nov 20:00 UTC = 1 Dec 01:30 IST: filing on 30 Nov would be refused.
    # The UTC moment beside it (as in every seller email) is the only place 30 Nov may appear.
    assert "from 1 Dec 2026, 1:30 AM IST (30 Nov 2026, 20:00 UTC)" in text
    assert "picked up on 21 Nov 2026" in text
    assert "30 Nov" not in text.replace("(30 Nov 2026, 20:00 UTC)", "")


def test_e3_names_the_delivery_day_as_the_seller_lived_it() -> None:
    rule, text = _explained(_facts(filed_at=LATE_EVENING_UTC + timedelta(hours=169)))
    assert rule == "E3"
    assert "delivered to you on 21 Nov 2026" in text
    assert "20 Nov" not in text


def test_e3_gives_the_filing_time_and_the_windows_end_to_the_minute() -> None:
    """Filed an hour after the 168 hours: two dates alone (filed on 28 Nov, delivered on
    21 Nov) read as exactly 7 days. The paragraph gives both moments, as E3c's does."""
    rule, text = _explained(_facts(filed_at=LATE_EVENING_UTC + timedelta(hours=169)))
    assert rule == "E3"
    # Delivered 20 Nov 20:00 UTC (21 Nov, 1:30 AM IST): the window ends 168 h later.
    assert "ended at 28 Nov 2026, 1:30 AM IST (27 Nov 2026, 20:00 UTC)" in text, text
    assert "filed on 28 Nov 2026, 2:30 AM IST (27 Nov 2026, 21:00 UTC)" in text, text


def test_e2b_points_to_the_first_case_without_promising_a_fresh_appeal_window() -> None:
    # The appeal window runs from the first decision, not from the duplicate filing: the email
    # gives the first case's appeal-by (or says it has passed), so the paragraph must not.
    from services.reconciliation.policy.rules import e2b_duplicate_claim
    from shared.events import CaseState

    verdict = e2b_duplicate_claim(CaseState.CLOSED, is_appeal=False)
    assert verdict is not None
    text = explain(verdict, _facts(), P, return_id="RET-1")
    assert "already has a decided case" in text
    assert "within 7 days" not in text and "appeal" not in text.lower()


def test_p2_asks_for_evidence_within_the_claim_window_not_the_72_hour_reply_time() -> None:
    from services.reconciliation.policy.rules import Step, Verdict

    checklist = P.evidence[ClaimType.MISSING_ITEM].checklist
    verdict = Verdict(Step.AWAIT_EVIDENCE, "P2", "WEIGHT_DROP_CHECKLIST", checklist=checklist)
    text = explain(verdict, _facts(claim_type=ClaimType.MISSING_ITEM), P, return_id="RET-1")
    assert "within 7 days of the delivery to you, by 28 Nov 2026, 1:30 AM IST" in text
    assert "72 hours" not in text


def test_times_after_noon_and_at_noon_read_pm_in_india_time() -> None:
    from services.reconciliation.policy import explain as wording

    def moment(*at: int) -> str:
        return wording._moment(datetime(*at, tzinfo=UTC))  # type: ignore[misc]

    assert moment(2026, 12, 1, 8, 0) == "1 Dec 2026, 1:30 PM IST (1 Dec 2026, 08:00 UTC)"
    assert moment(2026, 12, 1, 6, 35) == "1 Dec 2026, 12:05 PM IST (1 Dec 2026, 06:35 UTC)"
    assert moment(2026, 5, 31, 18, 40) == "1 Jun 2026, 12:10 AM IST (31 May 2026, 18:40 UTC)"


def test_only_the_deciding_rule_is_worded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision formats the dates its own rule names, not every rule's (the decision path
    words each explanation twice per decision)."""
    from services.reconciliation.policy import explain as wording

    days: list[object] = []
    original = wording._day

    def counted(when: datetime | None) -> str:
        days.append(when)
        return original(when)

    monkeypatch.setattr(wording, "_day", counted)
    text = wording._why("L5", _facts(), P)
    assert "delivered on 21 Nov 2026" in text
    assert days == [LATE_EVENING_UTC]


def test_a_desk_decision_on_a_case_the_desk_opened_itself_does_not_speak_of_a_claim() -> None:
    from services.reconciliation.policy.explain import explain_manual
    from shared.events import LiableParty

    text = explain_manual(
        return_id="RET-P1",
        reason="The partner confirmed the loss at its hub",
        payout=90_000,
        base=90_000,
        payout_pct=100,
        liable_party=LiableParty.PARTNER,
        p=P,
        seller_claimed=False,
    )
    assert "claim" not in text.lower()
    assert "the case we opened" in text and "no action is needed" in text.lower()


def test_a_p2_case_closed_when_the_window_passed_says_what_did_not_arrive_and_by_when() -> None:
    from services.reconciliation.policy.rules import Step, Verdict

    verdict = Verdict(Step.REJECT, "P2", "CLAIM_WINDOW_EXPIRED")
    f = _facts(claim_type=ClaimType.MISSING_ITEM)
    text = explain(verdict, f, P, return_id="RET-1", seller_claimed=False)
    assert "claim" not in text.lower()
    assert "evidence we asked for did not reach us" in text
    assert "by 28 Nov 2026, 1:30 AM IST" in text and "facts recorded" not in text


def test_a_partner_capped_payout_says_what_the_partner_and_the_marketplace_each_bear() -> None:
    # L9 on swiftship: ₹18,000 paid, the partner's cap is ₹10,000 a shipment, so the
    # marketplace bears ₹8,000: the paragraph must not say the whole cost is recovered.
    rule, text = _explained(
        _facts(qc_result="PASSED", item_value=2_000_000, claimed_amount=1_800_000)
    )
    assert rule == "L9"
    assert "The cost is recovered from the logistics partner" not in text, text
    assert f"{rupees(1_000_000)} of it is recovered from the logistics partner" in text, text
    assert f"the marketplace bears the remaining {rupees(800_000)}" in text, text


def test_a_payout_within_the_partners_cap_is_recovered_from_it_whole() -> None:
    rule, text = _explained(_facts(qc_result="PASSED", item_value=500_000, claimed_amount=500_000))
    assert rule == "L9"
    assert "The cost is recovered from the logistics partner that carried the return" in text
    assert "marketplace" not in text


def test_a_desk_decision_states_the_partners_share_when_its_cap_leaves_a_part() -> None:
    text = explain_manual(
        return_id="RET-1",
        reason="The scans show the damage in transit",
        payout=1_800_000,
        base=1_800_000,
        payout_pct=100,
        liable_party=LiableParty.PARTNER,
        partner_debit=1_000_000,
        p=P,
    )
    assert f"{rupees(1_000_000)} of it recovered from the logistics partner" in text, text
    assert f"the marketplace bears the remaining {rupees(800_000)}" in text, text
