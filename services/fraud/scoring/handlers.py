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
# An escalation's assessment is promised within a second: it (with its return's other events in
# the poll) is scored and committed before the rest of a backlog.
handlers.expedite(SellerEscalationFiled)


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
    """A batch's events in partition order, what they need read together first; the counters
    they add are written once at the batch's end (`deferred_counters`), so replicas consuming
    other partitions do not wait on each other's partner, hub and category rows."""
    session = contexts[0].session
    async with features.deferred_counters(session):
        # Inside the deferred block: the reads it keeps for the batch start with these.
        await service.prepare_batch(session, [c.envelope.payload for c in contexts])
        for ctx in contexts:
            await handlers.dispatch(ctx)
