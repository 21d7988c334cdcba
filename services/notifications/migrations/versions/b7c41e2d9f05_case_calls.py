"""Calls logged with a seller on a case, until the seller's next email summarises them.

Revision ID: b7c41e2d9f05
Revises: 5fc08a020a54
Create Date: 2026-12-03 09:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7c41e2d9f05"
down_revision = "5fc08a020a54"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_calls",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_in", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("case_id", "case_version"),
    )
    op.create_index(
        "ix_case_calls_untold",
        "case_calls",
        ["case_id"],
        postgresql_where=sa.text("told_in IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_case_calls_untold", table_name="case_calls")
    op.drop_table("case_calls")
