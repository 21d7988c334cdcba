"""Outbox rows keep the W3C trace context of the span that recorded them, so the relay's
publish span continues the request's or the consumed event's trace (shared/tracing.py).

Revision ID: b2e1d8f4e012
Revises: a5d8e2f61c37
Create Date: 2026-12-03 09:45:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b2e1d8f4e012"
down_revision = "a5d8e2f61c37"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "traceparent")
