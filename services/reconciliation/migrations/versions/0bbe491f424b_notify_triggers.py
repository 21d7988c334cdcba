"""NOTIFY triggers that wake its outbox relay and its timer loop (a new or moved timer may be due
earlier than the loop's next wake-up) instead of polling.

Revision ID: 0bbe491f424b
Revises: c3d2e9a5f123
Create Date: 2026-12-03 09:45:00+00:00
"""

from alembic import op

from shared.wakeups import (
    OUTBOX_CHANNEL,
    TIMERS_CHANNEL,
    drop_notify_trigger_ddl,
    notify_trigger_ddl,
)

revision = "0bbe491f424b"
down_revision = "c3d2e9a5f123"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in notify_trigger_ddl("outbox", OUTBOX_CHANNEL, events="INSERT"):
        op.execute(statement)
    # Pending timers only: the loop's own firing (fired_at set) wakes nobody.
    for statement in notify_trigger_ddl(
        "timers",
        TIMERS_CHANNEL,
        events="INSERT OR UPDATE",
        when="NEW.fired_at IS NULL AND NEW.cancelled_at IS NULL",
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("timers", last=False):
        op.execute(statement)
    for statement in drop_notify_trigger_ddl("outbox", last=True):
        op.execute(statement)
