"""One partner per id in any letter case: a unique index on the registry's folded ids.

The registry refused `FastLane` beside `fastlane` by looking first (`add_partner`); two
registrations racing could both find nothing and both insert. The index makes the second one
conflict, whichever commits first. Ids are ASCII (the `Id` pattern), so `lower` folds them
alike under every collation.

A database already holding ids that differ only in letter case cannot take the index: the
upgrade stops naming them, for an operator to merge or remove the twin first.

Revision ID: a8d4e2f6c913
Revises: e7b3c9a1f5d2
Create Date: 2026-12-07 07:10:00+00:00
"""

from alembic import op
from sqlalchemy import text

revision = "a8d4e2f6c913"
down_revision = "e7b3c9a1f5d2"
branch_labels = None
depends_on = None

INDEX = "partners_partner_id_folded_key"


def upgrade() -> None:
    twins = (
        op.get_bind()
        .execute(
            text(
                "SELECT string_agg(partner_id, ', ' ORDER BY partner_id) FROM partners "
                "GROUP BY lower(partner_id) HAVING count(*) > 1"
            )
        )
        .scalars()
        .all()
    )
    if twins:
        raise RuntimeError(
            "partner ids differing only in letter case must be merged before this upgrade: "
            + "; ".join(twins)
        )
    op.create_index(INDEX, "partners", [text("lower(partner_id)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="partners")
