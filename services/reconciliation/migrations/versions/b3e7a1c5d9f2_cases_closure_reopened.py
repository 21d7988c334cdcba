"""a case keeps the closure a partner's record undid until its next answer to the seller

A claim closed by a filing window (E3, E3b, E3c) and reopened on the partner's record
(`REOPENED_ON_DECLARATION`) sends no email of its own: the seller's inbox says the claim is
closed until the case answers again, which may be a transaction later (a fraud assessment still
awaited). `cases.closure_reopened` holds that closure (rule, reason, when) until the answer
(`CaseDecided`, `CaseUnderReview`, `CaseEscalated`) carries it, so that answer says the closure
no longer stands. Nullable, no default: existing cases hold nothing.

Revision ID: b3e7a1c5d9f2
Revises: d8f4b2a6e1c9
Create Date: 2026-12-07 13:10:00+00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "b3e7a1c5d9f2"
down_revision = "d8f4b2a6e1c9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("closure_reopened", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "closure_reopened")
