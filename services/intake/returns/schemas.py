"""HTTP shapes of the marketplace feed."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.events import Id
from shared.validation import PastInstant, PositivePaise, RequestModel, Text


class ReturnIn(RequestModel):
    return_id: Id
    order_id: Id
    seller_id: Id
    buyer_id: Id
    category: Text = Field(min_length=1, max_length=64)
    item_value: PositivePaise
    qc_required: bool
    partner_id: Id
    awb: Id
    initiated_at: PastInstant
    buyer_contact_hash: str | None = Field(default=None, max_length=128)
    buyer_address_hash: str | None = Field(default=None, max_length=128)


class ReturnAccepted(BaseModel):
    return_id: str
    event_id: str
    duplicate: bool


class RefundIn(RequestModel):
    refund_id: Id
    return_id: Id
    order_id: Id
    amount: PositivePaise
    issued_at: PastInstant


class RefundAccepted(BaseModel):
    refund_id: str
    return_id: str
    event_id: str
    duplicate: bool
