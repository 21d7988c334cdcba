"""HTTP shapes of seller escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import ClaimType, EscalationChannel, EvidenceItem, Id
from shared.paging import PageOf
from shared.validation import (
    EmailAddress,
    EvidenceUrl,
    MeasuredGrams,
    PastInstant,
    PositivePaise,
    RequestModel,
    Text,
)


class EvidenceItemIn(EvidenceItem):
    """An evidence item as a seller (or an agent for one) sends it. The event contract bounds
    `captured_at` to a plausible instant only; a file sent as evidence was made before it was
    sent, so here it is a past fact, and a capture time in the future (a clock set ahead, or a
    time chosen to sit after the delivery it disputes) is refused naming the item's field.
    Its `uri` is https without credentials here too, which the contract's `HttpUrl` let through
    (`http://…`, `https://user:pw@host/…`), to be stored, published and shown on the console."""

    captured_at: PastInstant
    uri: EvidenceUrl = Field(
        description="https URI where the evidence is stored, without user name or password."
    )


class EscalationIn(RequestModel):
    # The published example is the seller portal's own filing, naming where its answers go.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "return_id": "RET-1001",
                    "seller_id": "S-1001",
                    "claim_type": "DAMAGED",
                    "claimed_amount": 249_900,
                    "description": "The phone came back with a cracked screen.",
                    "evidence": [
                        {
                            "kind": "UNBOXING_VIDEO",
                            "uri": "https://evidence.example/returns/RET-1001/unboxing.mp4",
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015"
                            "a3bf4f1b2b0b822cd15d6c15b0f00a08",
                            "captured_at": "2026-11-24T10:00:00Z",
                            "perceptual_hash": "c3d4a1f09b7e5268",
                        }
                    ],
                    "received_weight_g": 812,
                    "channel": "PORTAL",
                    "seller_email": "seller@example.com",
                }
            ]
        }
    )

    return_id: Id
    seller_id: Id
    claim_type: ClaimType
    claimed_amount: PositivePaise
    description: Text = Field(min_length=1, max_length=5000)
    evidence: list[EvidenceItemIn] = Field(default_factory=list, max_length=50)
    received_weight_g: MeasuredGrams | None = None
    channel: EscalationChannel | None = Field(
        default=None,
        description="PORTAL for the seller portal (the default there); CALL or EMAIL when an "
        "agent files on the seller's behalf.",
    )
    seller_email: EmailAddress | None = Field(
        default=None,
        description="Where this case's emails go; without it, the seller's registered address "
        "in the seller directory. Sealed at once: intake keeps no plaintext.",
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
    description: str | None = None
    received_weight_g: int | None = None
    filed_by: str | None = None
    appealed_at: datetime | None = None
    appeal_reason: str | None = None
    state: Literal["filed", "pending_return", "refused"] = Field(
        default="filed",
        description="`filed`: on its way to a case. `pending_return`: the marketplace feed has "
        "not announced the return yet; it is filed when it does (for this seller's return) and "
        "refused otherwise or when the hold window ends. `refused`: never filed.",
    )
    refused_reason: str | None = Field(
        default=None, description="Why it was refused (shown to ops roles only)."
    )


class EscalationList(PageOf):
    """A page of escalations, newest first (docs/api.md, "Paging")."""

    items: list[EscalationOut]


class EvidenceIn(RequestModel):
    evidence: list[EvidenceItemIn] = Field(default_factory=list, max_length=50)
    received_weight_g: MeasuredGrams | None = None

    @model_validator(mode="after")
    def _something_to_add(self) -> EvidenceIn:
        if not self.evidence and self.received_weight_g is None:
            raise ValueError("send evidence items, a received_weight_g, or both")
        return self


class EvidenceAccepted(BaseModel):
    escalation_id: str
    added: int = Field(description="Items new to this escalation (resent files are skipped).")
    evidence_total: int
    received_weight_g: int | None
    event_id: str | None = Field(description="The EvidenceAdded event, if anything was new.")


class AppealIn(RequestModel):
    reason: Text = Field(min_length=1, max_length=5000)


class AppealAccepted(BaseModel):
    escalation_id: str = Field(
        description="The escalation appealed; for an appeal on a return the seller never "
        "escalated (a case the desk opened itself), the appeal's own id (`APL-…`)."
    )
    return_id: str
    appealed_at: datetime
    event_id: str
