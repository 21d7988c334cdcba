"""A return refused at pickup counts for its buyer only while it stopped there: whether the
return moved on (picked up, QC passed, ended) and the day its refusal is counted under, so the
count is taken back, once, when it moves on, whatever order the scans came in.

Revision ID: a9c3e5f7b214
Revises: a3e5c7f19b42
Create Date: 2026-12-05 22:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a9c3e5f7b214"
down_revision = "a3e5c7f19b42"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "return_facts",
        sa.Column("moved_on", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("return_facts", sa.Column("refusal_day", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("return_facts", "refusal_day")
    op.drop_column("return_facts", "moved_on")
