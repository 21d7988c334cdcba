"""NOTIFY triggers that wake the debit-notice delivery loop and the overdue-task loop, which
polled the database every second and every five seconds with nothing to do.

Revision ID: b7c1e5d9a2f4
Revises: a3d6f0b8c2e5
Create Date: 2026-12-05 00:40:00+00:00
"""

from alembic import op

from shared.wakeups import (
    NOTICES_CHANNEL,
    TASKS_CHANNEL,
    drop_notify_trigger_ddl,
    notify_trigger_ddl,
)

revision = "b7c1e5d9a2f4"
down_revision = "a3d6f0b8c2e5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A notice the loop may have to post (pending: new, retried, unparked) or finalise (its
    # contest window open). The loop's own finalising (FINAL) and parking wake nobody.
    for statement in notify_trigger_ddl(
        "debit_notices",
        NOTICES_CHANNEL,
        events="INSERT OR UPDATE",
        when="NEW.delivery = 'PENDING' OR NEW.dispute = 'OPEN'",
    ):
        op.execute(statement)
    # An open task not yet alerted for its due time: opened, or given a new date. The loop's
    # own alert mark (at or after the due time) wakes nobody.
    for statement in notify_trigger_ddl(
        "case_tasks",
        TASKS_CHANNEL,
        events="INSERT OR UPDATE",
        when="NEW.status = 'OPEN' AND (NEW.overdue_alerted_at IS NULL "
        "OR NEW.overdue_alerted_at < NEW.due_at)",
    ):
        op.execute(statement)


def downgrade() -> None:
    # The shared trigger function stays: the outbox's and the timers' triggers use it.
    for statement in drop_notify_trigger_ddl("case_tasks", last=False):
        op.execute(statement)
    for statement in drop_notify_trigger_ddl("debit_notices", last=False):
        op.execute(statement)
