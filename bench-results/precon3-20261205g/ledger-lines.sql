-- A 1,000-decision batch's ledger writes (1,000 transactions, 4,000 lines, copied from the
-- benchmark's own rows with new ids) replayed inside a rolled-back transaction, three variants:
--   main      the five indexes (id, transaction_id, case_id, account, posted_at), the balance
--             summed over the stored lines of each transaction the statement touched
--   idx3      id, transaction_id and one (account, posted_at): the indexes a query reads
--   idx3sum   idx3, and the balance summed over the statement's own lines
-- Times from clock_timestamp() around the lines' INSERT alone (its indexes and trigger).
\set ON_ERROR_STOP on
CREATE OR REPLACE FUNCTION pg_temp.replay(variant text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; t1 timestamptz;
BEGIN
  CREATE TEMP TABLE m ON COMMIT DROP AS
    SELECT transaction_id AS old, gen_random_uuid() AS new FROM ledger_transactions;
  INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
    SELECT m.new, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at
      FROM ledger_transactions t JOIN m ON m.old = t.transaction_id;
  CREATE TEMP TABLE lines ON COMMIT DROP AS
    SELECT m.new AS transaction_id, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at
      FROM ledger_entries e JOIN m ON m.old = e.transaction_id ORDER BY e.id;
  IF variant <> 'main' THEN
    DROP INDEX ix_ledger_entries_account;
    DROP INDEX ix_ledger_entries_case_id;
    DROP INDEX ix_ledger_entries_posted_at;
    CREATE INDEX ix_ledger_entries_account_posted_at ON ledger_entries (account, posted_at);
  END IF;
  IF variant = 'idx3sum' THEN
    CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE orphan uuid; unbalanced uuid; total bigint;
    BEGIN
      SELECT l.transaction_id INTO orphan FROM inserted_lines l
       WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.transaction_id = l.transaction_id) LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'orphan %', orphan USING ERRCODE = 'foreign_key_violation';
      END IF;
      SELECT l.transaction_id, sum(l.amount) INTO unbalanced, total FROM inserted_lines l
       GROUP BY l.transaction_id HAVING sum(l.amount) <> 0 LIMIT 1;
      IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'unbalanced %', unbalanced USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $f$;
  END IF;
  t0 := clock_timestamp();
  INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
    SELECT transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at FROM lines;
  t1 := clock_timestamp();
  RETURN round(extract(epoch FROM t1 - t0) * 1000, 2);
END $$;
BEGIN; SELECT 'main' AS variant, pg_temp.replay('main') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3' AS variant, pg_temp.replay('idx3') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3sum' AS variant, pg_temp.replay('idx3sum') AS ms; ROLLBACK;
BEGIN; SELECT 'main' AS variant, pg_temp.replay('main') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3' AS variant, pg_temp.replay('idx3') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3sum' AS variant, pg_temp.replay('idx3sum') AS ms; ROLLBACK;
BEGIN; SELECT 'main' AS variant, pg_temp.replay('main') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3' AS variant, pg_temp.replay('idx3') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3sum' AS variant, pg_temp.replay('idx3sum') AS ms; ROLLBACK;
BEGIN; SELECT 'main' AS variant, pg_temp.replay('main') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3' AS variant, pg_temp.replay('idx3') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3sum' AS variant, pg_temp.replay('idx3sum') AS ms; ROLLBACK;
BEGIN; SELECT 'main' AS variant, pg_temp.replay('main') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3' AS variant, pg_temp.replay('idx3') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3sum' AS variant, pg_temp.replay('idx3sum') AS ms; ROLLBACK;
BEGIN; SELECT 'main' AS variant, pg_temp.replay('main') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3' AS variant, pg_temp.replay('idx3') AS ms; ROLLBACK;
BEGIN; SELECT 'idx3sum' AS variant, pg_temp.replay('idx3sum') AS ms; ROLLBACK;
