"""The order a return belongs to, on its facts and on its evidence: returns of one order (a
multi-item order) may share their evidence (the order's one invoice) without reusing it.

Revision ID: a5d8e2f61c37
Revises: 8811b14091a9
Create Date: 2026-12-03 07:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a5d8e2f61c37"
down_revision = "8811b14091a9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("return_facts", sa.Column("order_id", sa.String(64), nullable=True))
    op.add_column("evidence_fingerprints", sa.Column("order_id", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("evidence_fingerprints", "order_id")
    op.drop_column("return_facts", "order_id")
