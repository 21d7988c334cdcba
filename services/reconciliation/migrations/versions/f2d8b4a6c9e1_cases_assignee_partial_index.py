"""an unassigned case has no entry in the assignee index

The desk's queue filters by assignee only to one person's cases (`assignee = …`); nothing reads
the cases without an assignee through this index. Every case starts unassigned and a case the
SOP decides alone stays so, yet the full index took an entry (a NULL key) for each case's
insert and for every rewrite of its row: a case's state change is never a HOT update (the state
is indexed), so each decision added a new entry to every index of `cases`. Made partial
(`WHERE assignee IS NOT NULL`), the index holds the assigned cases alone and answers the same
filter (an equality implies the predicate), and an unassigned case's writes skip it.

Revision ID: f2d8b4a6c9e1
Revises: c3a7e9d1f5b2
Create Date: 2026-12-06 02:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f2d8b4a6c9e1"
down_revision = "c3a7e9d1f5b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_assignee", table_name="cases")
    op.create_index(
        "ix_cases_assignee",
        "cases",
        ["assignee"],
        postgresql_where=sa.text("assignee IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_assignee", table_name="cases")
    op.create_index("ix_cases_assignee", "cases", ["assignee"])
