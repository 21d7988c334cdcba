"""returns bound to their seller, partner and AWB; held escalations and scans

Revision ID: c41d7e2a9b10
Revises: 7dac421e8bfb
Create Date: 2026-12-03 07:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c41d7e2a9b10"
down_revision = "7dac421e8bfb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("returns", sa.Column("partner_id", sa.String(length=64), nullable=True))
    op.add_column("returns", sa.Column("awb", sa.String(length=64), nullable=True))
    # Every stored payload is a ReturnInitiated, which requires both fields.
    op.execute(
        "UPDATE returns SET partner_id = payload->>'partner_id', awb = payload->>'awb' "
        "WHERE partner_id IS NULL"
    )
    op.alter_column("returns", "partner_id", nullable=False)
    op.alter_column("returns", "awb", nullable=False)

    op.add_column(
        "escalations",
        sa.Column("state", sa.String(length=20), server_default="filed", nullable=False),
    )
    op.add_column("escalations", sa.Column("refused_reason", sa.String(length=40), nullable=True))
    op.add_column(
        "escalations", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_escalations_pending_filed_at",
        "escalations",
        ["filed_at"],
        unique=False,
        postgresql_where=sa.text("state = 'pending_return'"),
    )

    op.create_table(
        "held_scans",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("partner_event_id", sa.String(length=200), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("awb", sa.String(length=64), nullable=False),
        sa.Column("raw_ref", sa.UUID(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="held", nullable=False),
        sa.Column("refused_reason", sa.String(length=40), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "partner_event_id"),
    )
    op.create_index(op.f("ix_held_scans_return_id"), "held_scans", ["return_id"], unique=False)
    op.create_index(
        "ix_held_scans_held_at",
        "held_scans",
        ["held_at"],
        unique=False,
        postgresql_where=sa.text("state = 'held'"),
    )


def downgrade() -> None:
    op.drop_index("ix_held_scans_held_at", table_name="held_scans")
    op.drop_index(op.f("ix_held_scans_return_id"), table_name="held_scans")
    op.drop_table("held_scans")
    op.drop_index("ix_escalations_pending_filed_at", table_name="escalations")
    op.drop_column("escalations", "resolved_at")
    op.drop_column("escalations", "refused_reason")
    op.drop_column("escalations", "state")
    op.drop_column("returns", "awb")
    op.drop_column("returns", "partner_id")
