"""the decision date promised to the seller on an escalated or appealed case, and how many such
dates were broken (an overdue case alerts management daily, the seller once per broken date)

Revision ID: d6f2a9c4e8b1
Revises: b9d4f1a7c2e5
Create Date: 2026-12-04 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d6f2a9c4e8b1"
down_revision = "b9d4f1a7c2e5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("decision_promised_by", sa.DateTime(timezone=True)))
    op.add_column(
        "cases",
        sa.Column("decision_promises_broken", sa.Integer(), nullable=False, server_default="0"),
    )
    # A case awaiting a decision when this runs was promised the date its timer holds: without
    # it, the emails that repeat the seller's date (a duplicate filing) would lose it until the
    # timer next fires.
    op.execute(
        "UPDATE cases SET decision_promised_by = timer_due_at WHERE timer_kind = 'DECISION_DUE'"
    )


def downgrade() -> None:
    op.drop_column("cases", "decision_promises_broken")
    op.drop_column("cases", "decision_promised_by")
