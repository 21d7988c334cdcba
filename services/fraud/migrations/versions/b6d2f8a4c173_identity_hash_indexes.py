"""The returns behind one contact or address hash are read when the accounts sharing it stand
out, to count a multi-item order once (`features.identity_orders`): an index on each hash, so
that read does not scan every return.

Revision ID: b6d2f8a4c173
Revises: a9c3e5f7b214
Create Date: 2026-12-06 21:45:00+00:00
"""

from alembic import op

revision = "b6d2f8a4c173"
down_revision = "a9c3e5f7b214"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_return_facts_contact_hash", "return_facts", ["contact_hash"])
    op.create_index("ix_return_facts_address_hash", "return_facts", ["address_hash"])


def downgrade() -> None:
    op.drop_index("ix_return_facts_address_hash", table_name="return_facts")
    op.drop_index("ix_return_facts_contact_hash", table_name="return_facts")
