"""Kafka handlers of the case aggregate: store each fact, then let the case service react.

Handlers are built per app so they read the app's clock (a `ManualClock` in tests)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.reconciliation.cases import service
from services.reconciliation.cases.repository import get as get_case
from services.reconciliation.facts import batch
from services.reconciliation.facts import repository as facts
from services.reconciliation.models import (
    AssessmentRecord,
    EscalationRecord,
    EvidenceAddition,
    ReturnRecord,
    ShipmentEventRecord,
)
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
    SellerRepliesRead,
    SellerReplyReceived,
)
from shared.kafka.consumer import EventHandlers, HandlerContext


class _QuietHandlers(EventHandlers):
    """Handlers run without autoflush: a consumer batch writes its rows in a few bulk flushes at
    commit instead of one flush before every query. Every read a handler does either targets
    rows written by Core statements (executed at once) or rows flushed explicitly."""

    def on(
        self, model: Any, *, acts_on: Callable[[Any], bool] | None = None
    ) -> Callable[[Any], Any]:
        register = super().on(model, acts_on=acts_on)

        def wrap(fn: Any) -> Any:
            @functools.wraps(fn)
            async def quiet(event: Any, ctx: HandlerContext) -> None:
                with ctx.session.no_autoflush:
                    # An event handled on its own (a batch took all its locks up front).
                    return_id = getattr(event, "return_id", None)
                    if return_id:
                        await facts.lock_returns(ctx.session, [return_id])
                    await fn(event, ctx)

            register(quiet)
            return fn

        return wrap


# Events about one return whose facts a batch reads and stores set-wise.
_RETURN_EVENTS = (
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    EvidenceAdded,
    AppealFiled,
    RefundIssued,
    FraudAssessed,
)


def _fact_row(event: Any, ce_id: Any) -> tuple[type[Any], dict[str, Any]] | None:
    """The row an event's handler will store first, when it is one the batch prepares."""
    if isinstance(event, FraudAssessed):
        return AssessmentRecord, facts.assessment_row(event)
    if isinstance(event, ReturnShipmentEvent):
        return ShipmentEventRecord, facts.scan_row(event, ce_id)
    if isinstance(event, ReturnInitiated):
        return ReturnRecord, facts.return_row(event, ce_id)
    if isinstance(event, SellerEscalationFiled):
        return EscalationRecord, facts.escalation_row(event, ce_id)
    if isinstance(event, EvidenceAdded):
        return EvidenceAddition, facts.evidence_row(event, ce_id)
    return None


async def handle_batch(handlers: EventHandlers, contexts: list[HandlerContext]) -> None:
    """A poll's events in one go: facts stored and read set-wise (`facts.batch`), then each
    event's own handler in partition order, then the timers of all the batch's cases."""
    session = contexts[0].session
    # Every return the batch touches, on whichever topic, locked before anything is read.
    await facts.lock_returns(
        session, (getattr(ctx.envelope.payload, "return_id", None) or "" for ctx in contexts)
    )
    rows = []
    return_ids: set[str] = set()
    for ctx in contexts:
        event = ctx.envelope.payload
        if isinstance(event, _RETURN_EVENTS) and event.return_id is not None:
            return_ids.add(event.return_id)
            row = _fact_row(event, ctx.ce_id)
            if row is not None:
                rows.append(row)
    unit = contexts[0].unit  # the batch's transaction: every context shares it
    with session.no_autoflush:
        view = await batch.prepare(session, rows, return_ids)
        unit.put(view)  # what `batch.current` finds for the repositories below
        try:
            for ctx in contexts:
                await handlers.dispatch(ctx)
            await view.write(session)
        finally:
            unit.pop(batch.BatchView)


def _about_a_claim(assessment: FraudAssessed) -> bool:
    return assessment.escalation_id is not None


def _became_evidence(reply: SellerReplyReceived) -> bool:
    """Whether an `EvidenceAdded` follows the reply (notifications says so; a reply from before
    it did is read from its accepted attachments)."""
    if reply.evidence_added is not None:
        return reply.evidence_added
    return any(a.accepted for a in reply.attachments)


def build_handlers(clock: Callable[[], Clock]) -> EventHandlers:
    handlers = _QuietHandlers()
    # A case opens on its escalation and is decided on its claim's fraud assessment: those go
    # ahead of a poll's scans and feed entries, so a decision does not queue behind them. Only
    # the assessments of claim events (escalation, evidence, appeal, the case's own events:
    # those carrying an escalation id) are what a decision reads first-hand (`fraud_band`);
    # fraud assesses every scan too, and those, half of a busy poll, wait their turn with the
    # scans instead of filling the first transaction. That includes a proactive case's trigger
    # scan (its decision reads that scan's assessment): the few such cases wait one transaction
    # of the same poll, a price taken knowingly against sorting every scan's assessment by
    # whether it opened a case.
    handlers.expedite(SellerEscalationFiled)
    handlers.expedite(FraudAssessed, when=_about_a_claim)

    def now() -> datetime:
        return clock().now()

    @handlers.on(ReturnInitiated)
    async def on_return(event: ReturnInitiated, ctx: HandlerContext) -> None:
        if await facts.store_return(ctx.session, event, ctx.ce_id):
            await service.on_return_fact(ctx.session, return_id=event.return_id, now=now())

    @handlers.on(ReturnShipmentEvent)
    async def on_scan(event: ReturnShipmentEvent, ctx: HandlerContext) -> None:
        if await service.refuse_foreign_scan(ctx.session, event=event, now=now()):
            return
        if await facts.store_scan(ctx.session, event, ctx.ce_id):
            # Before the case is re-run: a delivery judged against the decision it came after.
            await service.on_delivery_after_payout(ctx.session, event=event, now=now())
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

    @handlers.on(SellerReplyReceived)
    async def on_seller_reply(event: SellerReplyReceived, ctx: HandlerContext) -> None:
        case = await get_case(ctx.session, event.case_id)
        if case is None or case.seller_id != event.seller_id:
            return  # notifications checked the signed token; a mismatch here is not ours
        service.record_delivery(
            ctx.session,
            case,
            kind="SELLER_MESSAGE",
            reason=event.text or "(the seller's reply had no text)",
            at=event.received_at,
            data={
                "reply_id": str(event.reply_id),
                "attachments": [a.model_dump(mode="json") for a in event.attachments],
            },
        )
        service.seller_replied(case, received_at=event.received_at)
        if not _became_evidence(event):
            # A reply that became evidence is answered as evidence is (the case moves on, or
            # the decided case's answer); one of text alone would otherwise hear nothing.
            await service.answer_seller_message(
                ctx.session,
                case,
                actor=event.seller_id,
                now=now(),
                what=f"The seller replied by email (reply {event.reply_id}); the reply is "
                "answered.",
            )

    @handlers.on(SellerRepliesRead)
    async def on_replies_read(event: SellerRepliesRead, ctx: HandlerContext) -> None:
        case = await get_case(ctx.session, event.case_id)
        if case is None:
            return
        service.seller_replies_read(case, read_through=event.read_through)

    @handlers.on_batch
    async def on_batch(contexts: list[HandlerContext]) -> None:
        await handle_batch(handlers, contexts)

    return handlers


# The module-level set reads the system clock; apps build their own with the runtime's clock.
handlers = build_handlers(lambda: _SYSTEM_CLOCK)
_SYSTEM_CLOCK: Clock = SystemClock()
