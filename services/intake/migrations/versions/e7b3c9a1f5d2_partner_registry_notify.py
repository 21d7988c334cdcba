"""NOTIFY triggers on the partner registry, so every intake replica's partner directory drops
what changed as soon as it commits instead of reading every partner again every 2 s.

Any row written to `partners` or `partner_secrets` (insert, update, delete: an admin's change,
a rotation, a revocation, the retention's purge of a revoked secret) notifies
`disputedesk_partners`; the directory (`services/intake/partners/directory.py`) forgets its
entries on each notification and keeps them while it listens.

Revision ID: e7b3c9a1f5d2
Revises: c4e7a2f9b1d6
Create Date: 2026-12-07 03:00:00+00:00
"""

from alembic import op

from shared.wakeups import PARTNERS_CHANNEL, drop_notify_trigger_ddl, notify_trigger_ddl

revision = "e7b3c9a1f5d2"
down_revision = "c4e7a2f9b1d6"
branch_labels = None
depends_on = None

_TABLES = ("partners", "partner_secrets")


def upgrade() -> None:
    for table in _TABLES:
        for statement in notify_trigger_ddl(
            table, PARTNERS_CHANNEL, events="INSERT OR UPDATE OR DELETE"
        ):
            op.execute(statement)


def downgrade() -> None:
    for table in _TABLES:
        # The shared function stays: the outbox's trigger calls it too.
        for statement in drop_notify_trigger_ddl(table, last=False):
            op.execute(statement)
