"""What PostgreSQL's backend spends, in CPU, on each array statement of a decision batch: the
rows a 1,000-decision `consumer_cpu.py run decisions` stored are read back, then sent again as
the batch sends them (one array per column, JSON documents as text cast to jsonb, new ids),
each statement in a rolled-back transaction, the statements in alternating order; the backend's
time on CPU around each statement alone, from /proc/<backend pid>/schedstat (ns).

Variants that show the documents' share: the timeline and outbox rows with their documents
replaced by '{}' (the same rows, no 2.4 KB JSON to parse, store and index).

    python pg_statement_cpu.py DATABASE_URL ROUNDS"""

import asyncio
import statistics
import sys
import uuid

import asyncpg

TIMELINE = (
    "INSERT INTO case_timeline (case_id, case_version, kind, actor, reason, data, occurred_at) "
    "SELECT r.case_id, r.case_version, r.kind, r.actor, r.reason, r.data::jsonb, r.occurred_at "
    "FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::timestamptz[]) WITH ORDINALITY AS r(case_id, case_version, kind, actor, reason, data, "
    "occurred_at, n) ORDER BY r.n"
)
OUTBOX = (
    "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, "
    "traceparent) SELECT r.ce_id, r.ce_type, r.ce_source, r.ce_time, r.ce_subject, r.topic, "
    "r.key, r.payload::jsonb, r.traceparent FROM unnest($1::uuid[], $2::text[], $3::text[], "
    "$4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH "
    "ORDINALITY AS r(ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, "
    "traceparent, n) ORDER BY r.n"
)
TRANSACTIONS = (
    "INSERT INTO ledger_transactions (transaction_id, case_id, kind, reverses, policy_version, "
    "description, posted_at) SELECT r.transaction_id, r.case_id, r.kind, r.reverses, "
    "r.policy_version, r.description, r.posted_at FROM unnest($1::uuid[], $2::text[], "
    "$3::text[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[]) WITH ORDINALITY AS "
    "r(transaction_id, case_id, kind, reverses, policy_version, description, posted_at, n) "
    "ORDER BY r.n"
)
LINES = (
    "INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, "
    "counterparty_id, amount, posted_at) SELECT r.transaction_id, r.case_id, r.account, "
    "r.account_type, r.counterparty_id, r.amount, r.posted_at FROM unnest($1::uuid[], "
    "$2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[]) WITH "
    "ORDINALITY AS r(transaction_id, case_id, account, account_type, counterparty_id, amount, "
    "posted_at, n) ORDER BY r.n"
)


def oncpu(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def columns(rows, names):
    return [[r[n] for r in rows] for n in names]


async def main(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    # The decisions' rows: each decision's two case events (decided, settled) as timeline and
    # outbox rows, every ledger transaction and line (the run's settlements).
    timeline = await conn.fetch(
        "SELECT case_id, case_version, kind, actor, reason, data::text AS data, occurred_at "
        "FROM case_timeline WHERE kind IN ('CaseDecided', 'CaseSettled') ORDER BY id"
    )
    kinds = sorted({r["kind"] for r in timeline})
    outbox = await conn.fetch(
        "SELECT ce_type, ce_source, ce_time, ce_subject, topic, key, payload::text AS payload, "
        "traceparent FROM outbox WHERE ce_type IN ('disputedesk.reconciliation.case_decided.v1', "
        "'disputedesk.reconciliation.case_settled.v1') ORDER BY id"
    )
    txs = await conn.fetch("SELECT * FROM ledger_transactions ORDER BY seq")
    lines = await conn.fetch("SELECT * FROM ledger_entries ORDER BY id")
    print(f"timeline {len(timeline)} rows ({', '.join(kinds)}), outbox {len(outbox)}, "
          f"ledger transactions {len(txs)}, lines {len(lines)}", flush=True)

    def timeline_args(empty: bool):
        t = columns(timeline, ["case_id", "case_version", "kind", "actor", "reason", "data",
                               "occurred_at"])
        if empty:
            t[5] = ["{}"] * len(timeline)
        return t

    def outbox_args(empty: bool):
        o = columns(outbox, ["ce_type", "ce_source", "ce_time", "ce_subject", "topic", "key",
                             "payload", "traceparent"])
        if empty:
            o[6] = ["{}"] * len(outbox)
        return [[uuid.uuid4() for _ in outbox], *o]

    def ledger_args():
        new = {r["transaction_id"]: uuid.uuid4() for r in txs}
        t = columns(txs, ["transaction_id", "case_id", "kind", "reverses", "policy_version",
                          "description", "posted_at"])
        t[0] = [new[x] for x in t[0]]
        ln = columns(lines, ["transaction_id", "case_id", "account", "account_type",
                             "counterparty_id", "amount", "posted_at"])
        ln[0] = [new[x] for x in ln[0]]
        return t, ln

    cases = {
        "timeline rows": lambda: [(TIMELINE, timeline_args(False))],
        "timeline rows, documents '{}'": lambda: [(TIMELINE, timeline_args(True))],
        # The case check's AFTER statement trigger keeps every inserted row (documents
        # included) in its transition table; disabled here to see what that costs.
        "timeline rows, case check disabled": lambda: [
            ("ALTER TABLE case_timeline DISABLE TRIGGER case_timeline_cases_exist", []),
            (TIMELINE, timeline_args(False)),
        ],
        "outbox rows": lambda: [(OUTBOX, outbox_args(False))],
        "outbox rows, documents '{}'": lambda: [(OUTBOX, outbox_args(True))],
        "ledger transactions, then lines (lines timed)": lambda: [
            (TRANSACTIONS, ledger_args()[0]), None
        ],
        "no-op (SELECT 1)": lambda: [("SELECT 1", [])],
    }
    got = {c: [] for c in cases}
    for r in range(rounds):
        order = list(cases) if r % 2 == 0 else list(reversed(cases))
        for c in order:
            tr = conn.transaction()
            await tr.start()
            if c.startswith("ledger"):
                t, ln = ledger_args()
                await conn.execute(TRANSACTIONS, *t)
                steps = [(LINES, ln)]
            else:
                steps = cases[c]()
            await conn.execute("SELECT 1")
            before = oncpu(pid)
            for sql, args in steps:
                if sql.startswith("ALTER"):
                    await conn.execute(sql)
                    before = oncpu(pid)
                else:
                    await conn.execute(sql, *args)
            got[c].append((oncpu(pid) - before) / 1e6)
            await tr.rollback()
        print(f"round {r}: " + ", ".join(f"{c} {got[c][-1]:.1f}" for c in cases), flush=True)
    for c, xs in got.items():
        print(f"{c}: median {statistics.median(xs):.1f} ms, min {min(xs):.1f}, "
              f"max {max(xs):.1f} (n={len(xs)})")
    await conn.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
