"""A decision email states each fact once and states the ones the SOP names: a capped partner's
split in rupees, and whom the cost is recovered from, appear in the decision's paragraph, not
again in a liability sentence; an
E3c rejection names when the claim was filed and when the 45-day window ended (pure: the SOP's
record and paragraph, composed and rendered in English and Hindi)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.rendering import render, seller_time
from services.notifications.messages.wording_hi import time_hi
from services.notifications.settings import NotificationsSettings
from services.reconciliation.policy.explain import explain, explain_manual
from services.reconciliation.policy.rules import evaluate_claim
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import CaseEventBase, ClaimType, DecisionRecord, LiableParty, Outcome
from shared.money import rupees
from tests.support.sop_records import (
    AT,
    NOT_DELIVERED,
    PICKUP,
    SCENARIOS,
    sop_facts,
)

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])


def _sop_event(**facts_over: object) -> CaseEventBase:
    f = sop_facts(**facts_over)
    verdict = evaluate_claim(f, SOP_V1, facts_wait_over=True, fraud_wait_over=True)
    a = verdict.amounts
    record = DecisionRecord(
        policy_version="sop-v1",
        rule_id=verdict.rule_id,
        outcome=a.outcome if a else None,
        reason_code=verdict.reason_code,
        liable_party=verdict.liable_party,
        payout_pct=a.payout_pct if a else 0,
        payout=a.payout if a else 0,
        partner_debit=a.partner_debit if a else 0,
        buyer_receivable=a.buyer_receivable if a else 0,
        marketplace_cost=a.marketplace_cost if a else 0,
        facts=f.as_record(),
        explanation=explain(verdict, f, SOP_V1, return_id="RET-ONCE"),
        decided_at=AT,
    )
    build = samples.case_decided if a is not None else samples.case_rejected
    return build("C-ONCE", AT).model_copy(update={"decision": record})


def _mail(event: CaseEventBase, language: str = "en") -> str:
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
        if d.template == "decision"
    ]
    return render("decision", draft.context, language).text


def test_a_capped_partners_split_is_stated_once_in_the_decision_email() -> None:
    # ₹18,000 on a ₹18,000 item, QC passed (L9): swiftship pays its ₹10,000 cap, the
    # marketplace the other ₹8,000.
    event = _sop_event(qc_result="PASSED")
    assert event.decision is not None and event.decision.rule_id == "L9"
    rest = rupees(event.decision.marketplace_cost)
    assert (event.decision.partner_debit, event.decision.marketplace_cost) == (1_000_000, 800_000)
    for language in ("en", "hi"):
        text = _mail(event, language)
        assert text.count(rest) == 1, text
        assert text.count(rupees(1_000_000)) == 1, text
    english = _mail(event)
    # Whom the cost is recovered from, said once too: the paragraph says it, the email does not
    # add a sentence saying it again.
    assert "recovered from the logistics partner that carried the return" in english
    assert english.count("recover") == 1, english
    assert _mail(event, "hi").count("वसूल") == 1


def test_a_desk_decisions_capped_split_is_stated_once_too() -> None:
    explanation = explain_manual(
        return_id="RET-ONCE",
        reason="The carrier's photos show the box crushed",
        payout=1_800_000,
        base=1_800_000,
        payout_pct=100,
        liable_party=LiableParty.PARTNER,
        p=SOP_V1,
        partner_debit=1_000_000,
    )
    event = samples.case_decided("C-DESK", AT).model_copy(
        update={
            "decision": samples.decision_record(
                AT,
                rule_id="MANUAL",
                outcome=Outcome.GRANTED,
                payout=1_800_000,
                partner_debit=1_000_000,
                marketplace_cost=800_000,
                explanation=explanation,
                decided_by="agent-7",
            )
        }
    )
    text = _mail(event)
    assert text.count(rupees(800_000)) == 1, text
    assert "recovered from the logistics partner" in text and text.count("recover") == 1, text


def test_an_e3c_rejection_names_the_filing_time_and_the_windows_end() -> None:
    filed = PICKUP + timedelta(days=50)
    event = _sop_event(**{**NOT_DELIVERED, "claim_type": ClaimType.NOT_RECEIVED, "filed_at": filed})
    assert event.decision is not None and event.decision.rule_id == "E3c"
    window_end = PICKUP + timedelta(days=45)
    english = _mail(event)
    assert f"that is by {seller_time(window_end)}" in english, english
    assert f"was filed on {seller_time(filed)}" in english, english
    hindi = _mail(event, "hi")
    assert time_hi(window_end) in hindi and time_hi(filed) in hindi, hindi


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
@pytest.mark.parametrize("language", ["en", "hi"])
def test_the_decision_email_offers_the_appeal_once_and_dated(rule: str, language: str) -> None:
    """The decision's paragraph ends "You can appeal within 7 days"; the email's own paragraph
    says until when and how. Said once, dated, in both languages, for every rule's email: the
    SOP gives every decision and rejection its appeal, a claim closed as premature (E3b) too."""
    event = _sop_event(**SCENARIOS[rule])
    assert event.decision is not None and event.decision.rule_id == rule
    assert event.appeal_by is not None
    text = _mail(event, language)
    undated = "दिन के भीतर अपील" if language == "hi" else "can appeal within"
    assert undated not in text, text
    dated = (
        time_hi(event.appeal_by) if language == "hi" else f"until {seller_time(event.appeal_by)}"
    )
    assert text.count(dated) == 1, text


@pytest.mark.parametrize("language", ["en", "hi"])
def test_a_premature_claim_is_told_to_file_again_and_may_still_appeal(language: str) -> None:
    """E3b: the email gives the time from which to file again and the dated appeal the SOP gives
    every rejection (sop-v1 Step 4), in the text and the HTML part alike; it once dropped the
    appeal for the refiling, leaving a seller whose pickup date we had wrong with no appeal."""
    event = _sop_event(**SCENARIOS["E3b"])
    assert event.decision is not None and event.decision.rule_id == "E3b"
    assert event.appeal_by is not None
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
        if d.template == "decision"
    ]
    rendered = render("decision", draft.context, language)
    refile = "दावा फिर से दर्ज करें" if language == "hi" else "file the claim again from"
    dated = time_hi(event.appeal_by) if language == "hi" else seller_time(event.appeal_by)
    appeal = "खोलकर" if language == "hi" else 'choose "Appeal"'
    for part in (rendered.text, rendered.html):
        assert refile in part and dated in part and appeal in part, part
        assert part.count(dated) == 1, part


def test_a_duplicate_filing_after_the_window_is_not_offered_an_appeal_by_the_paragraph() -> None:
    """A filing on a decided case whose appeal window has closed is told the case is final; the
    quoted paragraph must not still say "you can appeal within 7 days"."""
    record = _sop_event().decision
    event = samples.duplicate_filing("C-DUP", AT).model_copy(
        update={"decision": record, "appeal_by": AT - timedelta(days=1)}
    )
    assert event.appeal_by is not None and event.appeal_by < event.occurred_at
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts
    [draft] = [d for d in drafts if d.template == "duplicate_filing"]
    for language in ("en", "hi"):
        text = render("duplicate_filing", draft.context, language).text
        assert "can appeal within" not in text and "दिन के भीतर अपील" not in text, text
