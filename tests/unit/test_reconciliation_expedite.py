"""What reconciliation's consumer handles ahead of a poll's other events: a claim's escalation
and the fraud assessments a decision reads, not the assessment fraud makes of every scan
(services/reconciliation/cases/handlers.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reconciliation.cases.handlers import build_handlers
from shared.clock import SystemClock
from shared.envelope import Envelope
from shared.events import ClaimType, EscalationChannel, SellerEscalationFiled
from tests.support.reconciliation import assessed, scan

AT = datetime(2026, 12, 5, tzinfo=UTC)


def test_a_claims_events_and_their_assessments_go_first_a_scans_assessment_does_not() -> None:
    handlers = build_handlers(SystemClock)
    filed = SellerEscalationFiled(
        escalation_id="ESC-1",
        return_id="RET-1",
        seller_id="S-1",
        claim_type=ClaimType.DAMAGED,
        claimed_amount=249_900,
        description="arrived broken",
        channel=EscalationChannel.PORTAL,
        filed_at=AT,
        filed_by="test",
    )
    claim = Envelope(filed, source="test")
    delivered = Envelope(scan("RET-1", "DELIVERED_TO_SELLER", AT), source="test")
    assert handlers.expedites(claim)
    assert handlers.expedites(Envelope(assessed(claim), source="test"))
    assert not handlers.expedites(Envelope(assessed(delivered), source="test"))
    assert not handlers.expedites(delivered)
