"""Outbox rows keep the W3C trace context of the span that recorded them, so the relay's
publish span continues the request's or the consumed event's trace (shared/tracing.py). Messages keep the trace of the event
that queued them, for the span of their SMTP send.

Revision ID: d4e3f0b6a234
Revises: 4e7b1c9d2a53
Create Date: 2026-12-03 09:45:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d4e3f0b6a234"
down_revision = "4e7b1c9d2a53"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(length=64), nullable=True))
    op.add_column("messages", sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "traceparent")
    op.drop_column("outbox", "traceparent")
