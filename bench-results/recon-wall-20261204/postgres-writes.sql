\timing on
\echo timeline_1000
BEGIN;
INSERT INTO case_timeline (case_id, case_version, kind, actor, reason, data, occurred_at) SELECT case_id, case_version+10, kind, actor, reason, data, occurred_at FROM case_timeline LIMIT 1000;
ROLLBACK;
\echo outbox_1000
BEGIN;
INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, traceparent)
SELECT gen_random_uuid(), ce_type, ce_source, ce_time, ce_subject, topic, key, payload, traceparent FROM outbox LIMIT 1000;
ROLLBACK;
\echo cases_update_500
BEGIN;
UPDATE cases SET version = version + 1, updated_at = now() WHERE case_id IN (SELECT case_id FROM cases LIMIT 500);
ROLLBACK;
\echo ledger_tx_500_entries_2000_check
BEGIN;
CREATE TEMP TABLE lt AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK;
\echo relay_mark_1000
BEGIN;
UPDATE outbox SET published_at = now() WHERE id IN (SELECT id FROM outbox ORDER BY id DESC LIMIT 1000);
ROLLBACK;
\echo inbox_500
BEGIN;
INSERT INTO inbox (ce_id, ce_type, topic, outcome) SELECT gen_random_uuid(), ce_type, topic, outcome FROM inbox LIMIT 500;
ROLLBACK;
