"""NOTIFY triggers that wake its outbox relay instead of polling.

Revision ID: 44c8b12d5458
Revises: b2e1d8f4e012
Create Date: 2026-12-03 09:45:00+00:00
"""

from alembic import op

from shared.wakeups import OUTBOX_CHANNEL, drop_notify_trigger_ddl, notify_trigger_ddl

revision = "44c8b12d5458"
down_revision = "b2e1d8f4e012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in notify_trigger_ddl("outbox", OUTBOX_CHANNEL, events="INSERT"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("outbox", last=True):
        op.execute(statement)
