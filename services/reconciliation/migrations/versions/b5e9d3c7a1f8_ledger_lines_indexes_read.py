"""a ledger line carries only the indexes a query reads, and a statement's balance is summed over
its own lines

Every decision inserts four ledger lines, and each line went into five indexes: its id, its
transaction, its case, its account and its posting time. No query reads lines by case (a case's
lines are read through its transactions), and the two that read an account's lines over a period
(a partner statement's month and its opening balance) combined the account and posting-time
indexes in a BitmapAnd. One index on (account, posted_at) serves them both directly, and the
receivable's "has a posting" probe by its prefix; the id and transaction indexes stay (the
transaction's lines: the case page, the ledger API, the task report).

The statement trigger summed, for each transaction a statement touched, every stored line of that
transaction, an index scan per transaction. The statement's own lines are enough: every INSERT
into `ledger_entries` runs this check, and a line is never updated, deleted or truncated
(`ledger_append_only`), so the lines stored before a statement sum to zero for every transaction,
and a transaction balances after the statement exactly when the statement's lines for it sum to
zero. A line appended alone to a committed transaction is still refused, with the same words.

Revision ID: b5e9d3c7a1f8
Revises: e7b2d5f9a3c6
Create Date: 2026-12-05 17:40:00+00:00
"""

import importlib

from alembic import op

revision = "b5e9d3c7a1f8"
down_revision = "e7b2d5f9a3c6"
branch_labels = None
depends_on = None

_PARENT_PER_STATEMENT = importlib.import_module(
    "services.reconciliation.migrations.versions.d1f7b3a9e6c2_ledger_lines_parent_per_statement"
)

_DROPPED = {
    "ix_ledger_entries_case_id": "case_id",
    "ix_ledger_entries_account": "account",
    "ix_ledger_entries_posted_at": "posted_at",
}

UPGRADE = [
    *(f"DROP INDEX {name}" for name in _DROPPED),
    "CREATE INDEX ix_ledger_entries_account_posted_at ON ledger_entries (account, posted_at)",
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
    -- The lines stored before this statement balance (each statement's were checked here and
    -- none is ever changed), so this statement's lines must balance on their own.
    SELECT l.transaction_id, sum(l.amount) INTO unbalanced, total
      FROM inserted_lines l
     GROUP BY l.transaction_id
    HAVING sum(l.amount) <> 0
     LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            unbalanced, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
]

# The balance summed over the stored lines again, as `d1f7b3a9e6c2` wrote it, and the indexes.
DOWNGRADE = [
    _PARENT_PER_STATEMENT.UPGRADE[1],
    "DROP INDEX ix_ledger_entries_account_posted_at",
    *(f"CREATE INDEX {name} ON ledger_entries ({column})" for name, column in _DROPPED.items()),
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
