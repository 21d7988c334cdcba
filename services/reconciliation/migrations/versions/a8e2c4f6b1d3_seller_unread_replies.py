"""seller replies nobody at the desk has read, on the case (the queue's "seller replied" filter);
debit notices by case (the case page lists a case's notices)

Revision ID: a8e2c4f6b1d3
Revises: f5c9e3b7d2a4
Create Date: 2026-12-03 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a8e2c4f6b1d3"
down_revision = "f5c9e3b7d2a4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("seller_unread_since", sa.DateTime(timezone=True)))
    op.add_column("cases", sa.Column("seller_last_reply_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_cases_seller_unread",
        "cases",
        ["opened_at", "case_id"],
        postgresql_where=sa.text("seller_unread_since IS NOT NULL"),
    )
    op.create_index("ix_debit_notices_case_id", "debit_notices", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_debit_notices_case_id", table_name="debit_notices")
    op.drop_index("ix_cases_seller_unread", table_name="cases")
    op.drop_column("cases", "seller_last_reply_at")
    op.drop_column("cases", "seller_unread_since")
