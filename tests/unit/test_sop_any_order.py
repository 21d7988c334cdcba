"""The whole SOP rule space against the engine, whatever the order the facts came in.

Each story of `tests/support/sop_oracle.py` (every combination of the facts the rules read,
over each partner, plus the amounts' boundaries and the fraud gate) is turned into the facts
snapshot as reconciliation builds it, with its scans in several orders, each scan twice, and
its times written in UTC or in India time, and judged by the product's rules. The answer must
be the same for every delivery and the oracle's, worked out again from sop-v1's text.
(The same property through the running stack, a sample of it: tests/integration/
test_sop_any_order.py.)"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone

import pytest

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
    Verdict,
    evaluate_claim,
    evaluate_proactive,
    proactive_trigger,
)
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import ClaimType, FraudBand, ShipmentEventType
from tests.support.sop_oracle import (
    Expected,
    Story,
    amounts_space,
    bands_space,
    expected,
    rule_space,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))


def _scan_facts(story: Story, tz: timezone) -> list[ScanFact]:
    return [
        ScanFact(
            ShipmentEventType(s.kind),
            (NOW - s.ago).astimezone(tz),
            s.weight_g,
            s.otp if s.kind == "DELIVERED_TO_SELLER" else None,
        )
        for s in story.scans
    ]


def deliveries(story: Story) -> Iterable[tuple[str, list[ScanFact]]]:
    """The story's scans as they may reach reconciliation: in the partner's order, reversed,
    shuffled, each of them twice, and in India time."""
    scans = _scan_facts(story, UTC)
    yield "in order", scans
    yield "reversed", scans[::-1]
    shuffled = list(scans)
    random.Random(story.name).shuffle(shuffled)
    yield "shuffled", shuffled
    yield "each twice", [s for s in scans[::-1] for _ in (0, 1)]
    yield "India time", _scan_facts(story, IST)[::-1]


def facts_of(story: Story, scans: list[ScanFact]) -> Facts:
    claim = story.claim
    evidence = (
        [EvidenceFact(kind, f"{n:064x}") for n, kind in enumerate(claim.evidence)] if claim else []
    )
    return build_facts(
        ret=ReturnFact(
            return_id="RET-P",
            seller_id="S-P",
            buyer_id="B-P",
            partner_id=story.partner,
            category="electronics",
            item_value=story.item_value,
            qc_required=story.qc_required,
        ),
        scans=scans,
        claim=ClaimFact(ClaimType(claim.claim_type), claim.amount, NOW) if claim else None,
        evidence=evidence,
        received_weights=(
            [(NOW, claim.received_weight_g)] if claim and claim.received_weight_g else []
        ),
        fraud_band=FraudBand(story.band) if story.band else None,
    )


def judged(story: Story, facts: Facts) -> Expected:
    """The product's answer for the facts: the claim through the SOP, or, with no claim, the
    case the desk opens itself (P1–P3) and its verdict."""
    if story.claim is not None:
        return _as_expected(evaluate_claim(facts, SOP_V1))
    trigger = proactive_trigger(facts, SOP_V1, at=NOW)
    if trigger is None:
        return Expected("NONE")
    if trigger.rule_id == "P2":
        return Expected("AWAIT_EVIDENCE", "P2", "WEIGHT_DROP_CHECKLIST")
    standing_in = Facts(
        **{
            **{name: getattr(facts, name) for name in Facts.__dataclass_fields__},
            "claim_type": trigger.claim_type,
            "claimed_amount": facts.item_value,
            "filed_at": NOW,
        }
    )
    return _as_expected(evaluate_proactive(standing_in, SOP_V1))


_STEPS = {
    Step.WAIT_FACTS: "WAIT",
    Step.WAIT_FRAUD: "WAIT",
    Step.AWAIT_EVIDENCE: "AWAIT_EVIDENCE",
    Step.REJECT: "REJECT",
    Step.REVIEW: "REVIEW",
    Step.DECIDE: "DECIDE",
    Step.PROPOSE: "PROPOSE",
}


def _as_expected(verdict: Verdict) -> Expected:
    a = verdict.amounts
    return Expected(
        _STEPS[verdict.step],
        verdict.rule_id,
        verdict.reason_code,
        verdict.liable_party.value if verdict.liable_party else None,
        a.payout if a else 0,
        a.partner_debit if a else 0,
        a.buyer_receivable if a else 0,
        a.marketplace_cost if a else 0,
        a.outcome.value if a else None,
    )


SPACES = {"rules": rule_space, "amounts": amounts_space, "bands": bands_space}


@pytest.mark.parametrize("space", sorted(SPACES))
def test_every_story_gets_the_oracles_answer_in_every_delivery(space: str) -> None:
    """One answer per story, whatever the order, the repeats or the time zone of its scans,
    and it is the SOP's. Disagreements are listed by class (rule expected → rule given), one
    example each, so a failure names the class, not a cell."""
    stories = list(SPACES[space]())
    assert stories
    wrong: dict[tuple[str, str], str] = {}
    for story in stories:
        want = expected(story)
        for how, scans in deliveries(story):
            got = judged(story, facts_of(story, scans))
            if got != want:
                key = (f"{want.step}/{want.rule}/{want.reason}", f"{got.step}/{got.rule}")
                wrong.setdefault(key, f"{story.name} [{how}]: want {want}, got {got}")
    assert not wrong, "\n".join(f"{k}: {v}" for k, v in sorted(wrong.items()))
