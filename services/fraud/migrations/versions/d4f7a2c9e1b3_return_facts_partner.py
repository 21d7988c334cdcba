"""An index on the return's partner (revision d4f7a2c9e1b3, after 44c8b12d5458), so that a read
of a partner's risk can tell a partner fraud has seen from an id that names nothing without
reading every return."""

from alembic import op

revision, down_revision = "d4f7a2c9e1b3", "44c8b12d5458"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_index("ix_return_facts_partner", "return_facts", ["partner_id"])


def downgrade() -> None:
    op.drop_index("ix_return_facts_partner", table_name="return_facts")
