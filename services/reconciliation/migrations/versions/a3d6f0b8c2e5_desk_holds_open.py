"""cases.desk_holds_open: the desk's own blocking tasks still open, so a decision waits for them

A blocking task the desk opens on a case not yet decided (`blocks_settlement`, hold kind DESK)
was meant to hold the decision when it came; the decision path looked only at the policy's
settlement holds and paid at once. The count lets a decision know without a task query.

Revision ID: a3d6f0b8c2e5
Revises: e1a7c3b5d9f2
Create Date: 2026-12-04 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a3d6f0b8c2e5"
down_revision = "e1a7c3b5d9f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("desk_holds_open", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        """
        UPDATE cases SET desk_holds_open = held.n
        FROM (
            SELECT case_id, count(*) AS n FROM case_tasks
            WHERE hold_kind = 'DESK' AND status = 'OPEN'
            GROUP BY case_id
        ) AS held
        WHERE cases.case_id = held.case_id
        """
    )


def downgrade() -> None:
    op.drop_column("cases", "desk_holds_open")
