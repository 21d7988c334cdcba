"""A debit notice's withdrawal time, apart from its final time.

An overturn withdraws a notice on which some of the debit still stood, FINAL, UPHELD and PARTIAL
ones included; the withdrawal wrote its time over `final_at`, so a notice that had become final
on 10 Dec (its contest window over, or a ruling) read as final on the day it was withdrawn, and
the partner's record of when its debit stood lost that date. `withdrawn_at` holds the
withdrawal; `final_at` keeps the moment the notice became final (or, for a notice withdrawn while
still open or contested, the withdrawal, which is what ended it). Existing withdrawn notices are
given their `final_at` as `withdrawn_at` (the only time recorded for them).

Revision ID: a9d3f7c2e5b1
Revises: d1f7b3a9e6c2
Create Date: 2026-12-05 12:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a9d3f7c2e5b1"
down_revision = "d1f7b3a9e6c2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "debit_notices", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE debit_notices SET withdrawn_at = final_at WHERE dispute = 'WITHDRAWN'")


def downgrade() -> None:
    # The code before this revision reads `final_at` as a withdrawn notice's withdrawal time (its
    # delivery loop tells the partner that time): put the withdrawal back there, or a withdrawal
    # still to be posted would name the day the notice became final. The upgrade's backfill
    # undoes this exactly.
    op.execute(
        "UPDATE debit_notices SET final_at = withdrawn_at "
        "WHERE dispute = 'WITHDRAWN' AND withdrawn_at IS NOT NULL"
    )
    op.drop_column("debit_notices", "withdrawn_at")
