"""a ledger line's transaction is checked once per INSERT statement, with the balance, instead of
by a foreign key per line

The foreign key from `ledger_entries.transaction_id` ran PostgreSQL's referential check for every
line: a query of `ledger_transactions` and a `FOR KEY SHARE` lock written into the transaction's
row (a tuple header change, and its WAL record), four times per decision. A consumer batch
inserts its hundreds of transactions' lines in one statement, and the statement-level trigger
that checks their balance (`e1a7c3b5d9f2`) already reads exactly those lines; it now also
refuses a line whose transaction does not exist, in one anti-join over the statement's lines,
with the foreign key's own error (`foreign_key_violation`, its constraint name and detail), so
callers see what they saw before.

The rest of what the foreign key guarded cannot happen on this ledger: a transaction's row is
never updated, deleted or truncated (`ledger_append_only` refuses each), nor is a line's
`transaction_id` changed, so the lock that kept a referenced row from being deleted under a
line has nothing to guard against.

Revision ID: d1f7b3a9e6c2
Revises: c3e8a1f6d4b2
Create Date: 2026-12-05 11:45:00+00:00
"""

import importlib

from alembic import op

revision = "d1f7b3a9e6c2"
down_revision = "c3e8a1f6d4b2"
branch_labels = None
depends_on = None

_BALANCE_PER_STATEMENT = importlib.import_module(
    "services.reconciliation.migrations.versions.e1a7c3b5d9f2_ledger_balance_per_statement"
)

_FOREIGN_KEY = "ledger_entries_transaction_id_fkey"

UPGRADE = [
    f"ALTER TABLE ledger_entries DROP CONSTRAINT {_FOREIGN_KEY}",
    # The same function name, so the trigger `e1a7c3b5d9f2` created calls it unchanged.
    """
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan uuid;
    unbalanced uuid;
    total bigint;
BEGIN
    SELECT l.transaction_id INTO orphan
      FROM inserted_lines l
     WHERE NOT EXISTS (
           SELECT 1 FROM ledger_transactions t WHERE t.transaction_id = l.transaction_id)
     LIMIT 1;
    IF FOUND THEN
        -- Worded as the foreign key's own error (its name, table and detail), which callers
        -- read (`shared.transient.refused_value` takes the column from the detail).
        RAISE EXCEPTION USING
            MESSAGE = 'insert or update on table "ledger_entries" violates foreign key '
                      || 'constraint "ledger_entries_transaction_id_fkey"',
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'ledger_entries_transaction_id_fkey',
            TABLE = 'ledger_entries',
            DETAIL = format('Key (transaction_id)=(%s) is not present in table '
                            || '"ledger_transactions".', orphan);
    END IF;
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
]

# The balance check alone, as `e1a7c3b5d9f2` wrote it, and the foreign key back.
DOWNGRADE = [
    "DROP TRIGGER ledger_entries_balanced ON ledger_entries",
    "DROP FUNCTION ledger_transactions_balance()",
    *_BALANCE_PER_STATEMENT.UPGRADE[2:],
    f"ALTER TABLE ledger_entries ADD CONSTRAINT {_FOREIGN_KEY} FOREIGN KEY (transaction_id) "
    "REFERENCES ledger_transactions (transaction_id)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
