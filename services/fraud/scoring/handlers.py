"""Kafka handlers of scoring: every intake return event gets an assessment."""

from __future__ import annotations

from services.fraud.scoring import service
from shared.events import (
    AppealFiled,
    EvidenceAdded,
    RefundIssued,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
)
from shared.kafka.consumer import EventHandlers, HandlerContext

handlers = EventHandlers()


@handlers.on(ReturnInitiated)
@handlers.on(RefundIssued)
@handlers.on(ReturnShipmentEvent)
@handlers.on(SellerEscalationFiled)
@handlers.on(EvidenceAdded)
@handlers.on(AppealFiled)
async def on_intake_event(event: object, ctx: HandlerContext) -> None:
    await service.assess_event(ctx.session, payload=ctx.envelope.payload, subject_event_id=ctx.ce_id)
