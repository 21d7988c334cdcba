"""A case's transition on a claim, scored by fraud on real PostgreSQL, weighs the claim as of the
claim's filing, not as of the transition's own stamp: reconciliation stamps a decision when it
decides (its clock), so in a replay or behind a backlog the decision reaches fraud at a point of
the stream set by how far fraud's consumer lags. Read at its own time, the claim's seller tests
counted whatever the consumer had reached by then: the same world scored twice gave the
decision different findings (and alerts). Weighed as of the claim, it reads the claim's record
whatever was counted after the claim."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.fraud.scoring.service import assess_event
from shared.events import (
    CaseDecided,
    CaseOrigin,
    CaseState,
    ClaimType,
    DecisionRecord,
    EventPayload,
    FraudAssessed,
    LiableParty,
    Outcome,
    SellerEscalationFiled,
)
from tests.support.factories import uid
from tests.support.fraud import seller_journey

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=70)


def _seller_rates(assessed: FraudAssessed, seller: str) -> list[tuple[str, Any, Any]]:
    """The seller's claim-rate findings of an assessment: (code, count, trials)."""
    return sorted(
        (r.code, r.numbers.get("count"), r.numbers.get("trials"))
        for r in assessed.reasons
        if r.numbers.get("entity") == f"seller:{seller}" and "CLAIM_RATE" in r.code
    )


def _decided(claim: SellerEscalationFiled, at: datetime) -> CaseDecided:
    return CaseDecided(
        case_id=uid("CASE"),
        case_version=2,
        return_id=claim.return_id,
        seller_id=claim.seller_id,
        partner_id="swiftship",
        claim_type=ClaimType.DAMAGED,
        origin=CaseOrigin.SELLER,
        state=CaseState.DECIDED,
        previous_state=CaseState.OPEN,
        actor="system",
        reason="L9",
        occurred_at=at,
        decision=DecisionRecord(
            policy_version="sop-v1",
            rule_id="L9",
            outcome=Outcome.GRANTED,
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            payout=90_000,
            explanation="QC passed at pickup.",
            decided_at=at,
        ),
    )


@pytest.mark.timeout(900)
async def test_a_decision_stamped_later_weighs_its_claim_as_of_the_claim(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category = uid("cat")

    async def score(events: list[EventPayload]) -> list[FraudAssessed]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                out.append(await assess_event(session, payload=e, subject_event_id=uuid.uuid4()))
        return out

    # Ordinary peers: two claims in thirty deliveries each.
    for p in range(3):
        peer: list[EventPayload] = []
        for i in range(30):
            peer += seller_journey(
                f"{category}-peer{p}",
                category,
                START + timedelta(days=i / 2),
                "DAMAGED" if i in (7, 22) else None,
            )
        await score(peer)

    # The seller: half of twelve deliveries claimed; its last claim is the one decided.
    seller = uid("S")
    claim: tuple[SellerEscalationFiled, FraudAssessed] | None = None
    for i in range(12):
        events = seller_journey(
            seller, category, START + timedelta(days=16 + i / 2), "DAMAGED" if i % 2 else None
        )
        for e, assessed in zip(events, await score(events), strict=True):
            if isinstance(e, SellerEscalationFiled):
                claim = (e, assessed)
    assert claim is not None
    filed, claim_assessed = claim
    at_claim = _seller_rates(claim_assessed, seller)
    assert at_claim, claim_assessed.reasons

    # Forty unclaimed deliveries after the claim's day, counted before the decision reaches
    # fraud (a consumer behind a replay reaches the decision late).
    later: list[EventPayload] = []
    for i in range(40):
        later += seller_journey(seller, category, START + timedelta(days=26 + i / 2), None)
    await score(later)

    # The decision, stamped by reconciliation's clock weeks after the claim.
    (decision,) = await score([_decided(filed, START + timedelta(days=60))])
    # Before: the decision read the seller's record to its own day (12 + 40 deliveries), so
    # its findings depended on how much of the stream fraud had counted when it arrived.
    assert _seller_rates(decision, seller) == at_claim, decision.reasons
