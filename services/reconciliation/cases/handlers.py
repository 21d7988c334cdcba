"""Kafka handlers of the case aggregate: store each fact, then let the case service react.

Handlers are built per app so they read the app's clock (a `ManualClock` in tests)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.reconciliation.cases import service
from services.reconciliation.cases.repository import get as get_case
from services.reconciliation.facts import repository as facts
from shared.clock import Clock, SystemClock
from shared.events import (
    AppealFiled,
    EvidenceAdded,
    FraudAssessed,
    NotificationFailed,
    NotificationSent,
    RefundIssued,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
)
from shared.kafka.consumer import EventHandlers, HandlerContext


class _QuietHandlers(EventHandlers):
    """Handlers run without autoflush: a consumer batch writes its rows in a few bulk flushes at
    commit instead of one flush before every query. Every read a handler does either targets
    rows written by Core statements (executed at once) or rows flushed explicitly."""

    def on(self, model: Any) -> Callable[[Any], Any]:
        register = super().on(model)

        def wrap(fn: Any) -> Any:
            @functools.wraps(fn)
            async def quiet(event: Any, ctx: HandlerContext) -> None:
                with ctx.session.no_autoflush:
                    await fn(event, ctx)

            register(quiet)
            return fn

        return wrap


def build_handlers(clock: Callable[[], Clock]) -> EventHandlers:
    handlers = _QuietHandlers()

    def now() -> datetime:
        return clock().now()

    @handlers.on(ReturnInitiated)
    async def on_return(event: ReturnInitiated, ctx: HandlerContext) -> None:
        if await facts.store_return(ctx.session, event, ctx.ce_id):
            await service.on_return_fact(ctx.session, return_id=event.return_id, now=now())

    @handlers.on(ReturnShipmentEvent)
    async def on_scan(event: ReturnShipmentEvent, ctx: HandlerContext) -> None:
        if await facts.store_scan(ctx.session, event, ctx.ce_id):
            await service.on_return_fact(ctx.session, return_id=event.return_id, now=now())

    @handlers.on(SellerEscalationFiled)
    async def on_escalation(event: SellerEscalationFiled, ctx: HandlerContext) -> None:
        await service.on_escalation(ctx.session, escalation=event, ce_id=ctx.ce_id, now=now())

    @handlers.on(EvidenceAdded)
    async def on_evidence(event: EvidenceAdded, ctx: HandlerContext) -> None:
        await service.on_evidence(ctx.session, event=event, ce_id=ctx.ce_id, now=now())

    @handlers.on(AppealFiled)
    async def on_appeal(event: AppealFiled, ctx: HandlerContext) -> None:
        await service.on_appeal(ctx.session, event=event, ce_id=ctx.ce_id, now=now())

    @handlers.on(RefundIssued)
    async def on_refund(event: RefundIssued, ctx: HandlerContext) -> None:
        if await facts.store_refund(ctx.session, event):
            await service.on_refund(ctx.session, event=event, now=now())

    @handlers.on(FraudAssessed)
    async def on_assessment(event: FraudAssessed, ctx: HandlerContext) -> None:
        await service.on_assessment(ctx.session, event=event, now=now())

    @handlers.on(NotificationSent)
    @handlers.on(NotificationFailed)
    async def on_delivery(
        event: NotificationSent | NotificationFailed, ctx: HandlerContext
    ) -> None:
        if event.case_id is None:
            return
        case = await get_case(ctx.session, event.case_id)
        if case is None:
            return
        if isinstance(event, NotificationSent):
            kind, reason, at = (
                "EMAIL_SENT",
                f"Email '{event.template}' sent: {event.subject}",
                event.sent_at,
            )
        else:
            kind = "EMAIL_FAILED"
            reason = (
                f"Email '{event.template}' failed after {event.attempts} attempt(s): {event.error}"
            )
            at = event.failed_at
        service.record_delivery(
            ctx.session,
            case,
            kind=kind,
            reason=reason,
            at=at,
            data={
                "template": event.template,
                "message_id": str(event.message_id),
                "case_version": event.case_version,
            },
        )

    return handlers


# The module-level set reads the system clock; apps build their own with the runtime's clock.
handlers = build_handlers(lambda: _SYSTEM_CLOCK)
_SYSTEM_CLOCK: Clock = SystemClock()
