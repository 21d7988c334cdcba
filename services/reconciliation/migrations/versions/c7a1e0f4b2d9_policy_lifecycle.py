"""policy lifecycle: proposals, four-eyes adoption with an effective time, a change log

`policies` gains the proposal (who, why, when it takes effect, the what-if stored with it), the
approval and the retirement. A version's definition can never change once stored, and no version
is ever deleted: a trigger refuses both, so decided cases can always be re-read under the exact
numbers they were decided with. `policy_changes` is the reason and diff of every step, append-only.

The versions already ACTIVE keep `effective_at` NULL: in force from the beginning of time.

Revision ID: c7a1e0f4b2d9
Revises: 0bbe491f424b
Create Date: 2026-12-03 09:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c7a1e0f4b2d9"
down_revision = "0bbe491f424b"
branch_labels = None
depends_on = None

GUARDS = [
    """
CREATE FUNCTION policy_definition_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'policy version % is kept forever: it cannot be deleted', OLD.version
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.version IS DISTINCT FROM OLD.version
       OR NEW.definition IS DISTINCT FROM OLD.definition THEN
        RAISE EXCEPTION 'policy version % cannot be edited; draft a new version', OLD.version
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER policies_frozen BEFORE UPDATE OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION policy_definition_frozen()
""",
    """
CREATE FUNCTION policy_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the policy change log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$
""",
    """
CREATE TRIGGER policy_changes_append_only BEFORE UPDATE OR DELETE ON policy_changes
    FOR EACH ROW EXECUTE FUNCTION policy_changes_append_only()
""",
    """
CREATE TRIGGER policy_changes_no_truncate BEFORE TRUNCATE ON policy_changes
    FOR EACH STATEMENT EXECUTE FUNCTION policy_changes_append_only()
""",
]

GUARDS_DOWN = [
    "DROP TRIGGER IF EXISTS policy_changes_no_truncate ON policy_changes",
    "DROP TRIGGER IF EXISTS policy_changes_append_only ON policy_changes",
    "DROP FUNCTION IF EXISTS policy_changes_append_only()",
    "DROP TRIGGER IF EXISTS policies_frozen ON policies",
    "DROP FUNCTION IF EXISTS policy_definition_frozen()",
]


def upgrade() -> None:
    for column in (
        sa.Column("based_on", sa.String(length=40), nullable=True),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proposed_by", sa.String(length=120), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("what_if", postgresql.JSONB(), nullable=True),
    ):
        op.add_column("policies", column)
    op.create_index(
        "ix_policies_in_force",
        "policies",
        ["effective_at"],
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_table(
        "policy_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("diff", postgresql.JSONB(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["policies.version"]),
    )
    op.create_index("ix_policy_changes_version", "policy_changes", ["version", "id"])
    for statement in GUARDS:
        op.execute(statement)


def downgrade() -> None:
    for statement in GUARDS_DOWN:
        op.execute(statement)
    op.drop_index("ix_policy_changes_version", table_name="policy_changes")
    op.drop_table("policy_changes")
    op.drop_index("ix_policies_in_force", table_name="policies")
    for name in (
        "what_if",
        "retired_at",
        "approved_by",
        "proposed_at",
        "proposed_by",
        "effective_at",
        "based_on",
    ):
        op.drop_column("policies", name)
