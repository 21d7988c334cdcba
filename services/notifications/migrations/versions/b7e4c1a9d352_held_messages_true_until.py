"""What a held seller message says stops being true at a moment (messages.true_until: the
appeal-by a decision offers, the reply-by an evidence request asks for), and the words it goes
out with after that moment (messages.late: subject, text and HTML), so that a message released
late by a directory update says what is still true.

Revision ID: b7e4c1a9d352
Revises: a6f3d2b8c410
Create Date: 2026-12-07 19:45:00+00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "b7e4c1a9d352"
down_revision = "a6f3d2b8c410"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("true_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("late", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "late")
    op.drop_column("messages", "true_until")
