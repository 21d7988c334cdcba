"""`fraud.alerts.v1` consumer: a network-level finding (a pilfering hub, a collusion ring, an
abusive seller) is written into the story of every open case it concerns, so the person
reviewing the case sees it with the suggested action. Decisions stay the SOP's: the fraud gate
(E5) reads the case's own assessment, which fraud already raises for such entities."""

from __future__ import annotations

from services.reconciliation.alerts import repository
from shared.events import FraudAlertRaised
from shared.kafka.consumer import EventHandlers, HandlerContext


def build_alert_handlers() -> EventHandlers:
    handlers = EventHandlers()

    @handlers.on(FraudAlertRaised)
    async def on_alert(event: FraudAlertRaised, ctx: HandlerContext) -> None:
        await repository.annotate_open_cases(
            ctx.session,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            reason=f"{event.summary} Suggested action: {event.suggested_action}",
            data={
                "alert_id": str(event.alert_id),
                "pattern": event.pattern,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "severity": event.severity.value,
            },
            at=event.raised_at,
        )

    return handlers
