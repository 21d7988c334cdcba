"""File seller escalations and emit `SellerEscalationFiled`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.escalations import repository
from services.intake.escalations.schemas import EscalationIn, EscalationOut
from services.intake.models import Escalation, Outbox
from shared.auth import Principal
from shared.events import SellerEscalationFiled
from shared.outbox import enqueue
from shared.problems import Problem

SOURCE = "disputedesk/intake"


async def file_escalation(
    session: AsyncSession, *, data: EscalationIn, principal: Principal, now: datetime | None = None
) -> EscalationOut:
    if not principal.can_act_for_seller(data.seller_id):
        raise Problem(403, "Forbidden", "This key may not file escalations for that seller.")
    escalation_id = f"ESC-{uuid4().hex[:16].upper()}"
    # The runtime clock, so tests and the simulator can file claims at a chosen time.
    filed_at = now or datetime.now(UTC)
    event = SellerEscalationFiled(
        escalation_id=escalation_id,
        return_id=data.return_id,
        seller_id=data.seller_id,
        claim_type=data.claim_type,
        claimed_amount=data.claimed_amount,
        description=data.description,
        evidence=data.evidence,
        received_weight_g=data.received_weight_g,
        channel=data.channel,
        filed_at=filed_at,
        filed_by=principal.client_id,
        seller_email=data.seller_email,
    )
    repository.add(
        session,
        Escalation(
            escalation_id=escalation_id,
            return_id=data.return_id,
            seller_id=data.seller_id,
            claim_type=data.claim_type.value,
            claimed_amount=data.claimed_amount,
            description=data.description,
            evidence=json.loads(json.dumps([e.model_dump(mode="json") for e in data.evidence])),
            received_weight_g=data.received_weight_g,
            channel=data.channel.value,
            filed_by=principal.client_id,
            filed_at=filed_at,
            seller_email=data.seller_email,
        ),
    )
    enqueue(session, Outbox, event, source=SOURCE, subject=data.return_id)
    return EscalationOut(
        escalation_id=escalation_id,
        return_id=data.return_id,
        seller_id=data.seller_id,
        claim_type=data.claim_type,
        claimed_amount=data.claimed_amount,
        channel=data.channel,
        filed_at=filed_at,
        evidence=data.evidence,
    )
