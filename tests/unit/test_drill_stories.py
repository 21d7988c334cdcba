"""The drill's stories are complete: each one, read the way intake maps swiftship's scans and the
way SOP v1 judges a claim, ends on the rule its scenario names, so the drill's traffic reaches
decisions, payouts, partner debits, proposals above the cap and appeals instead of waiting for
facts that never come."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from disputedesk.drills.stories import (
    DECK,
    Scenario,
    StoryScript,
    script_story,
)
from services.intake.partners.swiftship import STATUS_MAP
from services.reconciliation.policy.facts import (
    ClaimFact,
    EvidenceFact,
    Facts,
    ReturnFact,
    ScanFact,
    build_facts,
)
from services.reconciliation.policy.rules import (
    Step,
    compute_amounts,
    evaluate_claim,
    evaluate_proactive,
    missing_facts,
    proactive_trigger,
)
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import ClaimType, FraudBand, LiableParty

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SELLERS = ("S-DRILL-1", "S-DRILL-2", "S-DRILL-3")


def _script(scenario: Scenario, number: int = 7) -> StoryScript:
    return script_story(
        number, run_id="T1", now=NOW, sellers=SELLERS, rng=random.Random(1), scenario=scenario
    )


def _facts(script: StoryScript, *, with_late_evidence: bool = True) -> Facts:
    body = script.return_body
    ret = ReturnFact(
        body["return_id"],
        body["seller_id"],
        body["buyer_id"],
        body["partner_id"],
        body["category"],
        body["item_value"],
        body["qc_required"],
    )
    scans = [
        ScanFact(
            STATUS_MAP[s.status],
            s.at,
            round(s.weight_kg * 1000) if s.weight_kg is not None else None,
            s.otp_verified,
        )
        for s in script.scans
    ]
    claim = None
    evidence: list[EvidenceFact] = []
    if script.escalation is not None:
        e = script.escalation
        claim = ClaimFact(ClaimType(e["claim_type"]), e["claimed_amount"], NOW)
        evidence += [EvidenceFact(i["kind"], i["sha256"]) for i in e["evidence"]]
        if with_late_evidence and script.late_evidence is not None:
            evidence += [EvidenceFact(i["kind"], i["sha256"]) for i in script.late_evidence]
    elif script.scenario is Scenario.LOST:
        lost_at = next(s.at for s in script.scans if s.status == "return.lost")
        claim = ClaimFact(ClaimType.NOT_RECEIVED, body["item_value"], lost_at)
    facts = build_facts(ret=ret, scans=scans, claim=claim, evidence=evidence)
    return _with_band(facts)


def _with_band(facts: Facts) -> Facts:
    values = {name: getattr(facts, name) for name in facts.__dataclass_fields__}
    values["fraud_band"] = FraudBand.LOW
    return Facts(**values)


@pytest.mark.parametrize("scenario", [s for s in Scenario if s is not Scenario.NO_DISPUTE])
def test_every_story_has_the_facts_its_claim_needs(scenario: Scenario) -> None:
    facts = _facts(_script(scenario))
    assert missing_facts(facts) == []


@pytest.mark.parametrize(
    ("scenario", "step", "rule_id"),
    [
        (Scenario.PARTNER_DAMAGE, Step.DECIDE, "L9"),
        (Scenario.EVIDENCE_LATER, Step.DECIDE, "L9"),
        (Scenario.WRONG_ITEM, Step.DECIDE, "L8"),
        (Scenario.NO_QC_DAMAGE, Step.DECIDE, "L11"),
        (Scenario.ABOVE_CAP, Step.PROPOSE, "L9"),
        (Scenario.NOT_RECEIVED, Step.DECIDE, "L3"),
        (Scenario.LATE_CLAIM, Step.REJECT, "E3"),
    ],
)
def test_each_seller_claim_ends_on_the_rule_its_scenario_names(
    scenario: Scenario, step: Step, rule_id: str
) -> None:
    script = _script(scenario)
    verdict = evaluate_claim(_facts(script), SOP_V1)
    assert (verdict.step, verdict.rule_id) == (step, rule_id)
    assert script.intent.rule_id == rule_id
    if verdict.amounts is not None:
        assert verdict.liable_party is script.intent.liable_party
        assert verdict.amounts.payout_pct == script.intent.payout_pct


def test_a_claim_filed_without_evidence_waits_for_the_evidence_the_seller_adds_later() -> None:
    script = _script(Scenario.EVIDENCE_LATER)
    assert script.escalation is not None and script.escalation["evidence"] == []
    assert evaluate_claim(_facts(script, with_late_evidence=False), SOP_V1).step is (
        Step.AWAIT_EVIDENCE
    )


def test_a_lost_parcel_opens_a_case_by_itself_and_debits_the_partner() -> None:
    script = _script(Scenario.LOST)
    assert script.escalation is None and script.opens_case
    facts = _facts(script)
    trigger = proactive_trigger(facts, SOP_V1)
    assert trigger is not None and trigger.rule_id == "P1"
    verdict = evaluate_proactive(facts, SOP_V1)
    assert (verdict.step, verdict.rule_id, verdict.liable_party) == (
        Step.DECIDE,
        "L1",
        LiableParty.PARTNER,
    )
    assert verdict.amounts is not None and verdict.amounts.partner_debit > 0


def test_above_the_cap_the_payout_needs_an_approval_and_the_partner_pays_up_to_its_cap() -> None:
    verdict = evaluate_claim(_facts(_script(Scenario.ABOVE_CAP)), SOP_V1)
    assert verdict.amounts is not None
    assert verdict.amounts.payout > SOP_V1.approval_cap_paise
    assert verdict.amounts.partner_debit == SOP_V1.partner_caps_paise["swiftship"]


def test_appeals_are_planned_for_a_partial_payout_and_a_rejection() -> None:
    partial = _script(Scenario.NO_QC_DAMAGE)
    late = _script(Scenario.LATE_CLAIM)
    assert partial.appeal is not None and partial.appeal.overturn
    assert partial.appeal.liable_party is LiableParty.PARTNER
    assert late.appeal is not None and not late.appeal.overturn
    # An overturned partial payout pays in full and recovers from the partner.
    facts = _facts(partial)
    amounts = compute_amounts(
        claimed_amount=facts.claimed_amount or 0,
        item_value=facts.item_value,
        payout_pct=partial.appeal.payout_pct or 0,
        liable_party=partial.appeal.liable_party,
        partner_id=facts.partner_id,
        p=SOP_V1,
    )
    assert amounts.payout == facts.item_value and amounts.partner_debit > 0


def test_a_clean_return_opens_no_case() -> None:
    script = _script(Scenario.NO_DISPUTE)
    assert script.escalation is None and not script.opens_case
    assert proactive_trigger(_facts(script), SOP_V1) is None


def test_scans_come_from_the_returns_own_partner_in_order_with_weights() -> None:
    for scenario in Scenario:
        script = _script(scenario)
        assert script.return_body["partner_id"] == "swiftship"
        assert script.return_body["awb"] == script.awb
        times = [s.at for s in script.scans]
        assert times == sorted(times) and all(t <= NOW for t in times)
        assert script.scans[0].status == "return.picked_up"
        assert all(s.weight_kg for s in script.scans if s.status != "return.lost")
        assert script.return_body["initiated_at"] < script.scans[0].at.isoformat()
        if script.escalation is not None:
            assert script.escalation["seller_id"] == script.return_body["seller_id"]
            assert script.escalation["seller_email"]


def test_every_twenty_stories_reach_every_scenario() -> None:
    assert len(DECK) == 20 and set(DECK) == set(Scenario)
    scripts = [
        script_story(n, run_id="T1", now=NOW, sellers=SELLERS, rng=random.Random(n))
        for n in range(1, 21)
    ]
    assert Counter(s.scenario for s in scripts) == Counter(DECK)
    assert len({s.return_id for s in scripts}) == 20
    # Some claims come through the seller portal, some from an agent on the seller's behalf.
    assert {s.filed_by_agent for s in scripts if s.escalation is not None} == {True, False}
