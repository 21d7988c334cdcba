"""Mark the messages that answered a seller's evidence (messages.answers_evidence): the spacing
between answers counts only them, not the case's other evidence requests (a claim's own
request, a desk's, one after a reopened case).

Revision ID: a6f3d2b8c410
Revises: e8a2c4f61b07
Create Date: 2026-12-05 06:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a6f3d2b8c410"
down_revision = "e8a2c4f61b07"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("answers_evidence", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("messages", "answers_evidence")
