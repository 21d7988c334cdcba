"""NOTIFY triggers that wake its outbox relay and its dispatchers (a message queued, released from
hold or rescheduled) instead of polling.

Revision ID: 5fc08a020a54
Revises: d4e3f0b6a234
Create Date: 2026-12-03 09:45:00+00:00
"""

from alembic import op

from shared.wakeups import (
    MESSAGES_CHANNEL,
    OUTBOX_CHANNEL,
    drop_notify_trigger_ddl,
    notify_trigger_ddl,
)

revision = "5fc08a020a54"
down_revision = "d4e3f0b6a234"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in notify_trigger_ddl("outbox", OUTBOX_CHANNEL, events="INSERT"):
        op.execute(statement)
    # Pending rows only: a dispatcher's claim (to `sending`) and its results wake nobody.
    for statement in notify_trigger_ddl(
        "messages",
        MESSAGES_CHANNEL,
        events="INSERT OR UPDATE OF status, next_attempt_at",
        when="NEW.status = 'pending'",
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("messages", last=False):
        op.execute(statement)
    for statement in drop_notify_trigger_ddl("outbox", last=True):
        op.execute(statement)
