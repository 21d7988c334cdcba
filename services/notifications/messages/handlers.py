"""Kafka handlers: case events become queued messages."""

from __future__ import annotations

from services.notifications.messages import service
from shared.events import CaseOpened
from shared.kafka.consumer import EventHandlers, HandlerContext

handlers = EventHandlers()


@handlers.on(CaseOpened)
async def on_case_opened(event: CaseOpened, ctx: HandlerContext) -> None:
    await service.queue_acknowledgement(ctx.session, event=event)
