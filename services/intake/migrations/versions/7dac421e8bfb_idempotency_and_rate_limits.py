"""Longer idempotency keys (255) and shared rate-limit buckets.

`rate_limit_buckets` is UNLOGGED: a write skips the WAL, and a crash only refills the buckets
(shared/rate_limit.py says why the limits live here). Idempotency keys may be 1-255 characters in every service.

Revision ID: 7dac421e8bfb
Revises: 7e654c167361
Create Date: 2026-12-03 07:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7dac421e8bfb"
down_revision = "7e654c167361"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "idempotency_keys",
        "key",
        type_=sa.String(length=255),
        existing_type=sa.String(length=200),
        existing_nullable=False,
    )
    op.create_table(
        "rate_limit_buckets",
        sa.Column("bucket", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket"),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
    # A key longer than the old column cannot be kept, and the old code would refuse it anyway:
    # forgetting it only means a retry with that key runs again.
    op.execute("DELETE FROM idempotency_keys WHERE length(key) > 200")
    op.alter_column(
        "idempotency_keys",
        "key",
        type_=sa.String(length=200),
        existing_type=sa.String(length=255),
        existing_nullable=False,
    )
