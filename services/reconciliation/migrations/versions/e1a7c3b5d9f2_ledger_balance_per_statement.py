"""the ledger's balance check runs once per INSERT into ledger_entries, over the transactions
that statement touched, instead of once per line at commit

Revision ID: e1a7c3b5d9f2
Revises: d6f2a9c4e8b1
Create Date: 2026-12-04 11:10:00
"""

import importlib

from alembic import op

revision = "e1a7c3b5d9f2"
down_revision = "d6f2a9c4e8b1"
branch_labels = None
depends_on = None

_EARLIER = importlib.import_module(
    "services.reconciliation.migrations.versions.38fac58d512e_sop_engine_facts_cases_timers_policies_"
)

# The row-level check summed a transaction's lines once per line (four lines, four sums, each a
# function call and an index scan at commit). Every writer inserts a transaction's lines in one
# statement (a consumer batch's `ArrayInsert`, the unit of work's multi-row insert), so a check
# at the end of each statement sees them all, and sums each transaction it touched once. It
# also covers lines appended later to a committed transaction: their statement is checked too.
UPGRADE = [
    "DROP TRIGGER ledger_entries_balanced ON ledger_entries",
    "DROP FUNCTION ledger_transaction_balances()",
    """
CREATE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced uuid;
    total bigint;
BEGIN
    SELECT e.transaction_id, sum(e.amount) INTO unbalanced, total
      FROM ledger_entries e
     WHERE e.transaction_id IN (SELECT DISTINCT transaction_id FROM inserted_lines)
     GROUP BY e.transaction_id
    HAVING sum(e.amount) <> 0
     LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            unbalanced, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance()
""",
]

DOWNGRADE = [
    "DROP TRIGGER ledger_entries_balanced ON ledger_entries",
    "DROP FUNCTION ledger_transactions_balance()",
    # The row-level function and trigger, as revision 38fac58d512e created them.
    *_EARLIER.LEDGER_GUARDS[-2:],
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
