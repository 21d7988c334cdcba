"""HTTP shapes of seller escalations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import ClaimType, EscalationChannel, EvidenceItem, Grams, Id, Paise


class EscalationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_id: Id
    seller_id: Id
    claim_type: ClaimType
    claimed_amount: Paise
    description: str = Field(min_length=1, max_length=5000)
    evidence: list[EvidenceItem] = Field(default_factory=list, max_length=50)
    received_weight_g: Grams | None = None
    channel: EscalationChannel = EscalationChannel.PORTAL
    seller_email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )


class EscalationOut(BaseModel):
    escalation_id: str
    return_id: str
    seller_id: str
    claim_type: ClaimType
    claimed_amount: int
    channel: EscalationChannel
    filed_at: datetime
    evidence: list[EvidenceItem]
