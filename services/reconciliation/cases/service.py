"""Open a case for a seller escalation (walking skeleton).

PLACEHOLDER: this opens the case and stops; the SOP engine of the reconciliation issue takes it
from there (eligibility, liability, amounts, timers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases import repository
from services.reconciliation.models import Case, Outbox, TimelineEntry
from shared.events import CaseOpened, CaseOrigin, CaseState, SellerEscalationFiled
from shared.outbox import enqueue

SOURCE = "disputedesk/reconciliation"
# SOP step 4: auto-decidable claims are decided within minutes; reviews within 48 h.
EXPECTED_DECISION_WITHIN = timedelta(hours=48)


async def open_case_for_escalation(
    session: AsyncSession, *, escalation: SellerEscalationFiled
) -> Case | None:
    """Open the return's case; None if it already has one (rule E2: one case per return)."""
    if await repository.get_by_return_for_update(session, escalation.return_id) is not None:
        return None
    now = datetime.now(UTC)
    case = Case(
        case_id=f"CASE-{uuid4().hex[:12].upper()}",
        return_id=escalation.return_id,
        seller_id=escalation.seller_id,
        claim_type=escalation.claim_type.value,
        claimed_amount=escalation.claimed_amount,
        origin=CaseOrigin.SELLER.value,
        state=CaseState.OPEN.value,
        version=1,
        seller_email=escalation.seller_email,
        opened_at=now,
        updated_at=now,
    )
    reason = f"Seller escalation {escalation.escalation_id} filed ({escalation.claim_type.value})."
    repository.add(
        session,
        case,
        TimelineEntry(
            case_id=case.case_id, case_version=1, kind="CaseOpened", actor="system",
            reason=reason, occurred_at=now,
        ),
    )
    enqueue(
        session,
        Outbox,
        CaseOpened(
            case_id=case.case_id,
            case_version=1,
            return_id=case.return_id,
            seller_id=case.seller_id,
            claim_type=escalation.claim_type,
            origin=CaseOrigin.SELLER,
            state=CaseState.OPEN,
            actor="system",
            reason=reason,
            occurred_at=now,
            seller_email=escalation.seller_email,
            claimed_amount=escalation.claimed_amount,
            expected_decision_by=now + EXPECTED_DECISION_WITHIN,
        ),
        source=SOURCE,
        subject=case.case_id,
    )
    return case
