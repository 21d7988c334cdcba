"""Attachments of outgoing messages (messages.attachments): the case report of an escalation
to management, a partner's monthly statement.

Revision ID: e8a2c4f61b07
Revises: c3d9a7f1e2b4
Create Date: 2026-12-03 11:15:00+00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e8a2c4f61b07"
down_revision = "c3d9a7f1e2b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "attachments",
            postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("messages", "attachments")
