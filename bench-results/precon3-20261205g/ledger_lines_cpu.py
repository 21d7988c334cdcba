"""The ledger lines' INSERT of a 1,000-decision batch (4,000 lines, copied from the benchmark's
rows with new transaction ids), replayed in rolled-back transactions, variants alternating; the
backend's own CPU time around the INSERT alone, from /proc/<backend pid>/schedstat (ns on CPU).

    python ledger_lines_cpu.py DATABASE_URL ROUNDS"""

import asyncio
import statistics
import sys

import asyncpg

SETUP = """
CREATE TEMP TABLE m ON COMMIT DROP AS
  SELECT transaction_id AS old, gen_random_uuid() AS new FROM ledger_transactions;
INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, description, posted_at)
  SELECT m.new, t.case_id, t.kind, t.reverses, t.policy_version, t.description, t.posted_at
    FROM ledger_transactions t JOIN m ON m.old = t.transaction_id;
CREATE TEMP TABLE lines ON COMMIT DROP AS
  SELECT m.new AS transaction_id, e.case_id, e.account, e.account_type, e.counterparty_id, e.amount, e.posted_at
    FROM ledger_entries e JOIN m ON m.old = e.transaction_id ORDER BY e.id;
"""
IDX3 = """
DROP INDEX ix_ledger_entries_account;
DROP INDEX ix_ledger_entries_case_id;
DROP INDEX ix_ledger_entries_posted_at;
CREATE INDEX ix_ledger_entries_account_posted_at ON ledger_entries (account, posted_at);
"""
SUM_INSERTED = """
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
"""
NO_TRIGGER = "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_balanced;"
INSERT = """
INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at)
  SELECT transaction_id, case_id, account, account_type, counterparty_id, amount, posted_at FROM lines
"""
VARIANTS = {
    "main": [],
    "idx3": [IDX3],
    "idx3sum": [IDX3, SUM_INSERTED],
    "main-notrigger": [NO_TRIGGER],
}


def oncpu(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


async def main(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    got: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(rounds):
        order = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
        for v in order:
            tr = conn.transaction()
            await tr.start()
            await conn.execute(SETUP)
            for s in VARIANTS[v]:
                await conn.execute(s)
            await conn.execute("SELECT 1")
            before = oncpu(pid)
            await conn.execute(INSERT)
            ms = (oncpu(pid) - before) / 1e6
            await tr.rollback()
            got[v].append(ms)
            print(f"round {r} {v} {ms:.2f} ms", flush=True)
    for v, xs in got.items():
        print(f"{v}: median {statistics.median(xs):.2f} ms, min {min(xs):.2f}, max {max(xs):.2f} (n={len(xs)})")
    await conn.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
