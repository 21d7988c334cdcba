"""The seller directory (versioned profiles with their change history) and held messages.

A message for a seller the desk has no address for is stored with status `held` and an empty
recipient, and released when the directory learns an address; the partial index finds them.

Revision ID: 4e7b1c9d2a53
Revises: 785dd53aeef9
Create Date: 2026-12-03 08:10:00+00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "4e7b1c9d2a53"
down_revision = "785dd53aeef9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seller_profiles",
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("emails", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=8), server_default="en", nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("preferences", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seller_id"),
    )
    op.create_table(
        "seller_profile_changes",
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["seller_id"], ["seller_profiles.seller_id"]),
        sa.PrimaryKeyConstraint("seller_id", "version"),
    )
    op.create_index(
        "ix_messages_held_seller",
        "messages",
        ["seller_id"],
        postgresql_where=sa.text("status = 'held'"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_held_seller", table_name="messages")
    op.drop_table("seller_profile_changes")
    op.drop_table("seller_profiles")
