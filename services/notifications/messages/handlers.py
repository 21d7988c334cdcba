"""Kafka handlers: case transitions, cross-team tasks, fraud alerts and seller feedback become
queued messages."""

from __future__ import annotations

from services.notifications.messages import service
from services.notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.events import (
    AppealWithoutCase,
    CaseAppealed,
    CaseDecided,
    CaseEscalated,
    CaseEventBase,
    CaseNoteAdded,
    CaseOpened,
    CaseRejected,
    CaseSettled,
    CaseTaskEventBase,
    CaseTaskOpened,
    CaseTaskOverdue,
    CaseUnderReview,
    CaseUpdated,
    EvidenceRequested,
    FraudAlertRaised,
    PartnerStatementIssued,
    SellerFeedbackReceived,
)
from shared.kafka.consumer import EventHandlers, HandlerContext
from shared.pii import ContactOpener


def build_handlers(
    settings: NotificationsSettings, clock: Clock, opener: ContactOpener
) -> EventHandlers:
    handlers = EventHandlers()

    async def on_case_event(event: CaseEventBase, ctx: HandlerContext) -> None:
        await service.handle_case_event(
            ctx.session, event=event, settings=settings, now=clock.now(), opener=opener
        )

    for model in (
        CaseOpened,
        EvidenceRequested,
        CaseDecided,
        CaseRejected,
        CaseEscalated,
        CaseUpdated,  # merged or duplicate filings: the seller hears what became of them
        CaseAppealed,  # the appeal is acknowledged
        CaseSettled,  # the payout, with its payment reference
        CaseUnderReview,  # a later decision date (timeline change)
        CaseNoteAdded,  # a call with the seller, summarised in its next email
    ):
        handlers.on(model, acts_on=service.acts_on_case_event)(on_case_event)

    @handlers.on(AppealWithoutCase)  # an appeal on a return with no case is answered
    async def on_appeal_without_case(event: AppealWithoutCase, ctx: HandlerContext) -> None:
        await service.handle_appeal_without_case(
            ctx.session, event=event, settings=settings, now=clock.now(), opener=opener
        )

    @handlers.on(FraudAlertRaised)
    async def on_fraud_alert(event: FraudAlertRaised, ctx: HandlerContext) -> None:
        await service.handle_fraud_alert(
            ctx.session, event=event, settings=settings, now=clock.now()
        )

    async def on_task_event(event: CaseTaskEventBase, ctx: HandlerContext) -> None:
        await service.handle_task_event(
            ctx.session, event=event, settings=settings, now=clock.now()
        )

    for task_model in (CaseTaskOpened, CaseTaskOverdue):  # teams and management, by email
        handlers.on(task_model)(on_task_event)

    @handlers.on(PartnerStatementIssued)
    async def on_partner_statement(event: PartnerStatementIssued, ctx: HandlerContext) -> None:
        await service.handle_partner_statement(
            ctx.session, event=event, settings=settings, now=clock.now()
        )

    @handlers.on(SellerFeedbackReceived, acts_on=service.acts_on_feedback)
    async def on_seller_feedback(event: SellerFeedbackReceived, ctx: HandlerContext) -> None:
        await service.handle_seller_feedback(
            ctx.session, event=event, settings=settings, now=clock.now(), opener=opener
        )

    @handlers.on_batch
    async def on_batch(contexts: list[HandlerContext]) -> None:
        """The batch's sellers' profiles are read once up front (`sellers.prefetch`); the
        events then find them in the transaction instead of reading them each."""
        await service.prefetch_sellers(
            contexts[0].session, [ctx.envelope.payload for ctx in contexts]
        )
        for ctx in contexts:
            await handlers.dispatch(ctx)

    return handlers
