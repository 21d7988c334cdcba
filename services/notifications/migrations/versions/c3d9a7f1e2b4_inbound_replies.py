"""Seller replies coming in (inbound_emails, inbound_attachments) and addresses a delivery
report marked as failing (seller_profiles.failing_emails).

Revision ID: c3d9a7f1e2b4
Revises: b7c41e2d9f05
Create Date: 2026-12-03 10:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c3d9a7f1e2b4"
down_revision = "b7c41e2d9f05"
branch_labels = None
depends_on = None

EMPTY = sa.text("'[]'::jsonb")


def upgrade() -> None:
    op.add_column(
        "seller_profiles",
        sa.Column("failing_emails", postgresql.JSONB(), server_default=EMPTY, nullable=False),
    )
    op.create_table(
        "inbound_emails",
        sa.Column("reply_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=True),
        sa.Column("return_id", sa.String(length=64), nullable=True),
        sa.Column("candidate_case_id", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("match_reasons", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachments", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("reply_id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_inbound_case", "inbound_emails", ["case_id", "received_at"])
    op.create_index(
        "ix_inbound_unread",
        "inbound_emails",
        ["case_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_table(
        "inbound_attachments",
        sa.Column("attachment_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("reply_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("perceptual_hash", sa.String(length=16), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["inbound_emails.reply_id"]),
        sa.PrimaryKeyConstraint("attachment_id"),
    )
    op.create_index("ix_inbound_attachments_reply_id", "inbound_attachments", ["reply_id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_attachments_reply_id", table_name="inbound_attachments")
    op.drop_table("inbound_attachments")
    op.drop_index("ix_inbound_unread", table_name="inbound_emails")
    op.drop_index("ix_inbound_case", table_name="inbound_emails")
    op.drop_table("inbound_emails")
    op.drop_column("seller_profiles", "failing_emails")
