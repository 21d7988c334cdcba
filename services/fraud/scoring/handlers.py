"""Kafka handlers of scoring: every intake return event and every case decision is assessed."""

from __future__ import annotations

from services.fraud.features import repository as features
from services.fraud.scoring import service
from shared.events import (
    AppealFiled,
    CaseDecided,
    CaseRejected,
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
@handlers.on(CaseDecided)
@handlers.on(CaseRejected)
async def on_scored_event(event: object, ctx: HandlerContext) -> None:
    await service.assess_event(
        ctx.session, payload=ctx.envelope.payload, subject_event_id=ctx.ce_id
    )


@handlers.on_batch
async def on_batch(contexts: list[HandlerContext]) -> None:
    """A batch's events in partition order, their returns' facts read together first."""
    await features.prefetch_facts(contexts[0].session, [
        str(rid) for c in contexts if (rid := getattr(c.envelope.payload, "return_id", None))])
    for ctx in contexts:
        await handlers.dispatch(ctx)
