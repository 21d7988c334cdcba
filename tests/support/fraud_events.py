"""Canonical events for fraud's counting tests, without a stack: a partner's scan and a seller's
claim on one return, every field a test does not care about filled the same way."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from shared.events import (
    ClaimType,
    EscalationChannel,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)


def shipment_scan(
    kind: ShipmentEventType,
    at: datetime,
    *,
    partner: str = "swiftship",
    hub: str | None = "H-1",
    agent: str | None = None,
    weight: int | None = None,
    return_id: str = "R-1",
    awb: str = "A-1",
) -> ReturnShipmentEvent:
    return ReturnShipmentEvent(
        event_id=uuid4(),
        partner_id=partner,
        partner_event_id=str(uuid4()),
        return_id=return_id,
        awb=awb,
        event_type=kind,
        occurred_at=at,
        hub_id=hub,
        agent_id=agent,
        weight_g=weight,
        raw_ref="raw",
    )


def seller_claim(
    kind: ClaimType, at: datetime, *, amount: int = 150_000, return_id: str = "R-1"
) -> SellerEscalationFiled:
    return SellerEscalationFiled(
        escalation_id="ESC-1",
        return_id=return_id,
        seller_id="S-1",
        claim_type=kind,
        claimed_amount=amount,
        description="x",
        channel=EscalationChannel.PORTAL,
        filed_at=at,
        filed_by="portal",
    )
