\set QUIET on
\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE OR REPLACE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_row
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_row
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_statement
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_statement
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_statement
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_statement
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE OR REPLACE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_row
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_row
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE OR REPLACE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_row
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_row
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_statement
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_statement
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_statement
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_statement
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE OR REPLACE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_row
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_row
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE OR REPLACE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_row
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_row
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_statement
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_statement
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
CREATE OR REPLACE FUNCTION ledger_transactions_balance() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_balance();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_statement
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_statement
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;

\timing off
BEGIN;
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE OR REPLACE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
\timing on
CREATE TEMP TABLE lt ON COMMIT DROP AS SELECT transaction_id, gen_random_uuid() AS nid FROM ledger_transactions LIMIT 500;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
 SELECT lt.nid, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at FROM ledger_transactions t JOIN lt USING (transaction_id);
\echo entries_row
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
 SELECT lt.nid, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at FROM ledger_entries e JOIN lt USING (transaction_id);
\echo check_row
SET CONSTRAINTS ALL IMMEDIATE;
\echo end
ROLLBACK;
