"""Reconciliation: the claim SOP as code — cases, liability, ledger, the review desk."""

from __future__ import annotations

from fastapi import FastAPI

from services.reconciliation.alerts.handlers import build_alert_handlers
from services.reconciliation.cases.handlers import build_handlers
from services.reconciliation.cases.router import router as cases_router
from services.reconciliation.cases.timer_loop import timer_loop
from services.reconciliation.disputes.delivery import notice_loop
from services.reconciliation.disputes.router import router as disputes_router
from services.reconciliation.ledger.router import router as ledger_router
from services.reconciliation.models import IdempotencyKey, Inbox, Outbox
from services.reconciliation.policy.router import router as policy_router
from services.reconciliation.problem_types import PROBLEM_TYPES
from services.reconciliation.reports.router import router as reports_router
from services.reconciliation.settings import ReconciliationSettings
from services.reconciliation.tasks.loop import task_loop
from services.reconciliation.tasks.router import router as tasks_router
from services.reconciliation.wiring import install as install_rooms
from shared.app import ConsumerSpec, create_service_app
from shared.clock import Clock, SystemClock
from shared.errors import install_domain_errors


def create_app(
    settings: ReconciliationSettings | None = None, *, clock: Clock | None = None
) -> FastAPI:
    install_rooms()
    settings = settings or ReconciliationSettings()
    clock = clock or SystemClock()
    holder: dict[str, FastAPI] = {}

    def current_clock() -> Clock:
        # Tests may swap `runtime.clock`; handlers follow whatever the runtime holds.
        app = holder.get("app")
        runtime = getattr(app.state, "runtime", None) if app is not None else None
        return runtime.clock if runtime is not None else clock

    app = create_service_app(
        name="reconciliation",
        title="disputedesk reconciliation",
        description="Runs the claim SOP: cases, liability, ledger, review desk.",
        settings=settings,
        outbox_model=Outbox,
        inbox_model=Inbox,
        idempotency_model=IdempotencyKey,
        consumers=[
            ConsumerSpec(
                settings.consumer_group,
                [settings.returns_topic, settings.assessments_topic, settings.deliveries_topic],
                build_handlers(current_clock),
            ),
            ConsumerSpec(
                settings.alerts_consumer_group, [settings.alerts_topic], build_alert_handlers()
            ),
        ],
        routers=[
            cases_router,
            ledger_router,
            policy_router,
            reports_router,
            disputes_router,
            tasks_router,
        ],
        background=[timer_loop, notice_loop, task_loop],
        clock=clock,
    )
    install_domain_errors(app, PROBLEM_TYPES)
    holder["app"] = app
    return app
