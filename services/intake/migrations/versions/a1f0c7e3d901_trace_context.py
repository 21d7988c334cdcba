"""Outbox rows keep the W3C trace context of the span that recorded them, so the relay's
publish span continues the request's or the consumed event's trace (shared/tracing.py).

Revision ID: a1f0c7e3d901
Revises: 5c1e7a9d3b42
Create Date: 2026-12-03 09:45:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a1f0c7e3d901"
down_revision = "5c1e7a9d3b42"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "traceparent")
