"""partner disputes: registered endpoints, debit notices with their delivery attempts, contests

`partner_endpoints` is where (and how signed) a partner receives our debit notices, and its
finance contact; the signing secret is encrypted at rest (shared/secretbox.py).
`debit_notices` is one notice per partner debit, delivered through an outbox of its own
(retries, backoff, dead letters); `notice_attempts` keeps every attempt. `notice_contests` is a
partner's contest of a notice and the desk's ruling on it.

Revision ID: e4b8d2a6c1f3
Revises: c7a1e0f4b2d9
Create Date: 2026-12-03 09:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e4b8d2a6c1f3"
down_revision = "c7a1e0f4b2d9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_endpoints",
        sa.Column("partner_id", sa.String(length=64), primary_key=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("scheme", sa.String(length=30), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("finance_contact", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "debit_notices",
        sa.Column("notice_id", sa.UUID(), primary_key=True),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("settlement_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.String(length=10), nullable=False),
        sa.Column("policy_version", sa.String(length=40), nullable=False),
        sa.Column("contest_window_days", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("delivery", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispute", sa.String(length=20), nullable=False),
        sa.Column("contest_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("settlement_id", name="uq_debit_notices_settlement"),
    )
    op.create_index("ix_debit_notices_partner", "debit_notices", ["partner_id", "created_at"])
    op.create_index(
        "ix_debit_notices_due",
        "debit_notices",
        ["next_attempt_at"],
        postgresql_where=sa.text("delivery = 'PENDING'"),
    )
    op.create_index(
        "ix_debit_notices_window",
        "debit_notices",
        ["contest_by"],
        postgresql_where=sa.text("dispute = 'OPEN'"),
    )
    op.create_table(
        "notice_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("notice_id", sa.UUID(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["debit_notices.notice_id"]),
    )
    op.create_index("ix_notice_attempts_notice", "notice_attempts", ["notice_id", "id"])
    op.create_table(
        "notice_contests",
        sa.Column("contest_id", sa.UUID(), primary_key=True),
        sa.Column("notice_id", sa.UUID(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(), nullable=False),
        sa.Column("filed_by", sa.String(length=120), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=True),
        sa.Column("ruling", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversal_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["debit_notices.notice_id"]),
        sa.UniqueConstraint("notice_id", name="uq_notice_contests_notice"),
    )


def downgrade() -> None:
    op.drop_table("notice_contests")
    op.drop_index("ix_notice_attempts_notice", table_name="notice_attempts")
    op.drop_table("notice_attempts")
    op.drop_index("ix_debit_notices_window", table_name="debit_notices")
    op.drop_index("ix_debit_notices_due", table_name="debit_notices")
    op.drop_index("ix_debit_notices_partner", table_name="debit_notices")
    op.drop_table("debit_notices")
    op.drop_table("partner_endpoints")
