"""Whether a return's delivery was dear for its category when it was counted
(`features.dear`): a claim on it is counted dear exactly when its delivery was.

Revision ID: d4a7c2e9f013
Revises: 5b3e9d0c7a21
Create Date: 2026-12-04 21:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d4a7c2e9f013"
down_revision = "5b3e9d0c7a21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("return_facts", sa.Column("dear", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("return_facts", "dear")
