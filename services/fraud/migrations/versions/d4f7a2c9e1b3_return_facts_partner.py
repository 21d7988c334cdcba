"""An index on the return's partner, so that a read of a partner's risk can tell a partner fraud
has seen from an id that names nothing without reading every return.

Revision ID: d4f7a2c9e1b3
Revises: 44c8b12d5458
Create Date: 2026-12-04 15:20:00+00:00
"""

from alembic import op

revision = "d4f7a2c9e1b3"
down_revision = "44c8b12d5458"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_return_facts_partner", "return_facts", ["partner_id"])


def downgrade() -> None:
    op.drop_index("ix_return_facts_partner", table_name="return_facts")
