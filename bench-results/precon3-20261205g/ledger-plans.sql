-- Which index serves which query that reads ledger lines, on a ledger of 400,000 lines (100,000
-- settlements across 5,000 sellers, 50 partners and a year of postings, generated inside a
-- rolled-back transaction), with main's five indexes and then with the three kept
-- (id, transaction_id, (account, posted_at)). The queries are the product's, as SQLAlchemy
-- sends them (services/reconciliation/ledger/repository.py, disputes/repository.py).
\set ON_ERROR_STOP on
\pset pager off
BEGIN;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
  SELECT md5('t' || g)::uuid, 'CASE-X' || g, 'SETTLEMENT', NULL, 'sop-v1', 'generated', timestamptz '2025-12-01' + g * interval '5 minutes'
    FROM generate_series(1, 100000) g;
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
  SELECT md5('t' || g)::uuid, 'CASE-X' || g, a.account, a.account_type, NULL, a.amount, timestamptz '2025-12-01' + g * interval '5 minutes'
    FROM generate_series(1, 100000) g,
    LATERAL (VALUES ('seller_payable:S-' || (g % 5000), 'seller_payable', -1000),
                    ('protection_fund', 'protection_fund', 600),
                    ('partner_receivable:P-' || (g % 50), 'partner_receivable', 400)) a(account, account_type, amount);
ANALYZE ledger_entries; ANALYZE ledger_transactions;
\echo '=== main: five indexes'
\echo '--- entries_of (a transaction''s lines: case page, ledger API, task report)'
EXPLAIN SELECT * FROM ledger_entries WHERE transaction_id = md5('t77')::uuid ORDER BY id;
\echo '--- account_entries (a partner statement''s month)'
EXPLAIN SELECT e.*, t.* FROM ledger_entries e JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
  WHERE e.account = 'partner_receivable:P-7' AND e.posted_at >= '2026-03-01' AND e.posted_at < '2026-04-01' ORDER BY e.posted_at, e.id;
\echo '--- balance_before (a statement''s opening balance)'
EXPLAIN SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account = 'partner_receivable:P-7' AND posted_at < '2026-03-01';
\echo '--- partner_known (its receivable has a posting)'
EXPLAIN SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE account = 'partner_receivable:P-7');
\echo '--- balances (every account)'
EXPLAIN SELECT account, sum(amount) FROM ledger_entries GROUP BY account ORDER BY account;
\echo '--- the balance check''s sum over the stored lines of a statement''s transactions (main''s trigger)'
EXPLAIN SELECT e.transaction_id, sum(e.amount) FROM ledger_entries e
  WHERE e.transaction_id IN (SELECT md5('t' || g)::uuid FROM generate_series(1, 1000) g) GROUP BY 1 HAVING sum(e.amount) <> 0;
DROP INDEX ix_ledger_entries_account; DROP INDEX ix_ledger_entries_case_id; DROP INDEX ix_ledger_entries_posted_at;
CREATE INDEX ix_ledger_entries_account_posted_at ON ledger_entries (account, posted_at);
ANALYZE ledger_entries;
\echo '=== three indexes: id, transaction_id, (account, posted_at)'
\echo '--- entries_of'
EXPLAIN SELECT * FROM ledger_entries WHERE transaction_id = md5('t77')::uuid ORDER BY id;
\echo '--- account_entries'
EXPLAIN SELECT e.*, t.* FROM ledger_entries e JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
  WHERE e.account = 'partner_receivable:P-7' AND e.posted_at >= '2026-03-01' AND e.posted_at < '2026-04-01' ORDER BY e.posted_at, e.id;
\echo '--- balance_before'
EXPLAIN SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account = 'partner_receivable:P-7' AND posted_at < '2026-03-01';
\echo '--- partner_known'
EXPLAIN SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE account = 'partner_receivable:P-7');
\echo '--- balances'
EXPLAIN SELECT account, sum(amount) FROM ledger_entries GROUP BY account ORDER BY account;
ROLLBACK;
