"""Whether a journey's end was counted with the hubs' parts of it (only hub, last of several,
earlier: `features.service.pilferage_counts`), so that a late scan revises only the counters
its end wrote.

Revision ID: a3e5c7f19b42
Revises: f2c8a4d7e915
Create Date: 2026-12-05 22:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a3e5c7f19b42"
down_revision = "f2c8a4d7e915"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: a journey ended before is known to have been counted without
    # the parts, and its late scans revise only the hubs' and agents' totals.
    op.add_column("return_facts", sa.Column("parts_counted", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # Lossy: upgraded again, a journey ended with the parts reads as ended without them, and
    # its late scans revise only the totals (its parts stay as its end counted them).
    op.drop_column("return_facts", "parts_counted")
