"""Kafka handlers of the case aggregate."""

from __future__ import annotations

from services.reconciliation.cases import service
from shared.events import SellerEscalationFiled
from shared.kafka.consumer import EventHandlers, HandlerContext

handlers = EventHandlers()


@handlers.on(SellerEscalationFiled)
async def on_escalation(event: SellerEscalationFiled, ctx: HandlerContext) -> None:
    await service.open_case_for_escalation(ctx.session, escalation=event)
