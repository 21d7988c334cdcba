"""delivery attempts, leases, suppressions, digests

Revision ID: 0aa321f80a0e
Revises: 88a18d28a423
Create Date: 2026-11-26 10:07:20.842779
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0aa321f80a0e"
down_revision = "88a18d28a423"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("digest_id", sa.UUID(), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("flush_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("digest_id"),
    )
    op.create_index(
        "ix_digests_due",
        "digests",
        ["flush_at"],
        unique=False,
        postgresql_where=sa.text("flushed_at IS NULL"),
    )
    op.create_index(
        "ux_digests_open_per_seller",
        "digests",
        ["seller_id"],
        unique=True,
        postgresql_where=sa.text("flushed_at IS NULL"),
    )
    op.create_table(
        "suppressions",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("source_message_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.message_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_delivery_attempts_message_id"), "delivery_attempts", ["message_id"], unique=False
    )
    op.create_table(
        "digest_items",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("digest_id", sa.UUID(), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["digests.digest_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index(op.f("ix_digest_items_digest_id"), "digest_items", ["digest_id"], unique=False)
    op.add_column(
        "messages",
        sa.Column("audience", sa.String(length=20), server_default="seller", nullable=False),
    )
    op.add_column(
        "messages",
        sa.Column("essential", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column("messages", sa.Column("subject_key", sa.String(length=200), nullable=True))
    op.add_column(
        "messages",
        sa.Column("recipient_hash", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column("messages", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("resend_of", sa.UUID(), nullable=True))
    op.create_index(
        "ix_messages_leased",
        "messages",
        ["lease_until"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    # The (seller_id, next_attempt_at) index serves every lookup by seller.
    op.drop_index("ix_messages_seller_id", table_name="messages")
    op.create_index(
        "ix_messages_seller_day", "messages", ["seller_id", "next_attempt_at"], unique=False
    )
    op.create_foreign_key(
        "fk_messages_resend_of", "messages", "messages", ["resend_of"], ["message_id"]
    )


def downgrade() -> None:
    op.drop_constraint("fk_messages_resend_of", "messages", type_="foreignkey")
    op.drop_index("ix_messages_seller_day", table_name="messages")
    op.create_index("ix_messages_seller_id", "messages", ["seller_id"], unique=False)
    op.drop_index(
        "ix_messages_leased", table_name="messages", postgresql_where=sa.text("status = 'sending'")
    )
    op.drop_column("messages", "resend_of")
    op.drop_column("messages", "lease_until")
    op.drop_column("messages", "recipient_hash")
    op.drop_column("messages", "subject_key")
    op.drop_column("messages", "essential")
    op.drop_column("messages", "audience")
    op.drop_index(op.f("ix_digest_items_digest_id"), table_name="digest_items")
    op.drop_table("digest_items")
    op.drop_index(op.f("ix_delivery_attempts_message_id"), table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_table("suppressions")
    op.drop_index(
        "ux_digests_open_per_seller",
        table_name="digests",
        postgresql_where=sa.text("flushed_at IS NULL"),
    )
    op.drop_index(
        "ix_digests_due", table_name="digests", postgresql_where=sa.text("flushed_at IS NULL")
    )
    op.drop_table("digests")
