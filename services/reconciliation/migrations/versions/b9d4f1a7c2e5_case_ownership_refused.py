"""a case whose return the feed gave to another seller stops standing for that return: its
`ownership_refused_at`, and one live case per return instead of one case per return

Revision ID: b9d4f1a7c2e5
Revises: a8e2c4f6b1d3
Create Date: 2026-12-03 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b9d4f1a7c2e5"
down_revision = "a8e2c4f6b1d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("ownership_refused_at", sa.DateTime(timezone=True)))
    op.drop_constraint("cases_return_id_key", "cases", type_="unique")
    op.create_index(
        "uq_cases_live_return_id",
        "cases",
        ["return_id"],
        unique=True,
        postgresql_where=sa.text("ownership_refused_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_cases_live_return_id", table_name="cases")
    # Fails while a refused case and its return's live case both exist, as it must: one case
    # per return cannot hold them.
    op.create_unique_constraint("cases_return_id_key", "cases", ["return_id"])
    op.drop_column("cases", "ownership_refused_at")
