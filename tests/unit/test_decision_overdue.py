"""A decision overdue with management or on appeal: the seller hears once per broken date, each
new date further out; management hears every day (pure: the promise rule, then the emails)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.catalogue import samples
from services.notifications.messages.composing import SELLER, compose_case_event
from services.notifications.messages.rendering import render
from services.notifications.settings import NotificationsSettings
from services.reconciliation.cases.deadlines import break_promise, next_step_by
from services.reconciliation.models import Case
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import CaseState

AT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
SETTINGS = NotificationsSettings(management_recipients=["ops.lead@desk.dev"])


def test_each_broken_date_doubles_the_next_up_to_the_policys_limit() -> None:
    case = Case(state=CaseState.ESCALATED.value, decision_promises_broken=0)
    spacing = []
    now = AT
    for _ in range(5):
        promised = break_promise(case, now, SOP_V1)
        spacing.append((promised - now) / timedelta(hours=1))
        now = promised
    management_h = SOP_V1.task_sla_h["management"]
    limit = SOP_V1.timers.overdue_promise_max_h
    assert spacing == [min(management_h * 2**k, limit) for k in range(5)]
    assert spacing[-1] == limit and case.decision_promises_broken == 5
    # A filing merged into the case is told the seller's date, not the timer's next wake-up.
    case.timer_due_at = AT
    assert next_step_by(case, SOP_V1) == case.decision_promised_by


def test_a_broken_date_writes_to_the_seller_a_daily_reminder_only_to_management() -> None:
    broken = samples.decision_overdue("C-OVD", AT)
    still = broken.model_copy(update={"change": "DECISION_STILL_OVERDUE"})
    first = compose_case_event(broken, SETTINGS, now=AT, seller_address="s@example.com").drafts
    again = compose_case_event(still, SETTINGS, now=AT, seller_address="s@example.com").drafts
    assert sorted(d.template for d in first) == ["decision_overdue_alert", "timeline_change"]
    assert [d.template for d in again] == ["decision_overdue_alert"]
    assert all(d.audience != SELLER for d in again)
    alert = render("decision_overdue_alert", again[0].context)
    assert alert.subject.startswith("[C-OVD] Still overdue")
    assert "already has our apology" in alert.text
    told = render("decision_overdue_alert", next(d for d in first if d.audience != SELLER).context)
    assert "has received an apology and a new date" in told.text
