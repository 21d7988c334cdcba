"""A return's scans as pilferage attributes an incident by them (`features.custody`): the hub
where the weight was last intact and where it was first short, or where the parcel went
missing, instead of every hub the journey named.

Revision ID: f2c8a4d7e915
Revises: d4a7c2e9f013
Create Date: 2026-12-05 03:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "f2c8a4d7e915"
down_revision = "d4a7c2e9f013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: a return first seen before it is counted as it was, every hub
    # named, so its late scans add to what its end was counted with.
    op.add_column("return_facts", sa.Column("custody", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    # Lossy for journeys still open: their ends were counted by custody, and a late scan after
    # the downgrade diffs against every hub named, a count never made. Ended journeys keep
    # their counts; downgrade when no late scans are expected (after a quiet hour).
    op.drop_column("return_facts", "custody")
