"""NOTIFY triggers that wake its outbox relay instead of polling.

Revision ID: 6b7d09a08350
Revises: a1f0c7e3d901
Create Date: 2026-12-03 09:45:00+00:00
"""

from alembic import op

from shared.wakeups import OUTBOX_CHANNEL, drop_notify_trigger_ddl, notify_trigger_ddl

revision = "6b7d09a08350"
down_revision = "a1f0c7e3d901"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in notify_trigger_ddl("outbox", OUTBOX_CHANNEL, events="INSERT"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("outbox", last=True):
        op.execute(statement)
