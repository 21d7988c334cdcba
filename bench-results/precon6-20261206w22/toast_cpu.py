"""What PostgreSQL's backend spends, in CPU, inserting a decision batch's case documents with
and without the attempt to compress them: a decided case's timeline row and outbox row carry a
2.0-2.5 KB document, which puts the row over PostgreSQL's 2 KB TOAST threshold, so every insert
tries pglz on the document (and keeps it uncompressed: it saves too little). With the table's
`toast_tuple_target` at 8160 a row under a page is stored as it comes, no attempt made.

The rows of a finished `bench/reconciliation.py` run (its decided and settled documents) are
sent again as the batch sends them (one array per column, documents as text cast to jsonb, new
ids), each statement in a rolled-back transaction, the two settings alternating; the backend's
time on CPU around the statement alone, from /proc/<backend pid>/schedstat (ns).

    python toast_cpu.py DATABASE_URL ROUNDS"""

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


def oncpu(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


async def main(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    tl = await conn.fetch(
        "SELECT case_id, case_version, kind, actor, reason, data::text AS data, occurred_at "
        "FROM case_timeline WHERE kind IN ('CaseDecided', 'CaseSettled') ORDER BY id"
    )
    ob = await conn.fetch(
        "SELECT ce_type, ce_source, ce_time, ce_subject, topic, key, payload::text AS payload, "
        "traceparent FROM outbox WHERE ce_type LIKE '%case_decided%' OR ce_type LIKE "
        "'%case_settled%' ORDER BY id"
    )
    tl_args = [[r[i] for r in tl] for i in range(7)]

    def ob_args() -> list[list[object]]:
        cols = [[r[i] for r in ob] for i in range(8)]
        return [[uuid.uuid4() for _ in ob], *cols]

    results: dict[str, list[float]] = {}
    for rnd in range(rounds):
        order = ["default", "8160"] if rnd % 2 == 0 else ["8160", "default"]
        for table, stmt in (("case_timeline", TIMELINE), ("outbox", OUTBOX)):
            for setting in order:
                tr = conn.transaction()
                await tr.start()
                if setting == "8160":
                    await conn.execute(f"ALTER TABLE {table} SET (toast_tuple_target = 8160)")
                args = tl_args if table == "case_timeline" else ob_args()
                before = oncpu(pid)
                await conn.execute(stmt, *args)
                spent = (oncpu(pid) - before) / 1e6
                await tr.rollback()
                results.setdefault(f"{table} {setting}", []).append(spent)
    n_tl, n_ob = len(tl), len(ob)
    print(f"rows: timeline {n_tl}, outbox {n_ob} (decided and settled documents)")
    for name, xs in results.items():
        xs_s = ", ".join(f"{x:.1f}" for x in xs)
        print(f"{name:24s} median {statistics.median(xs):7.1f} ms  [{xs_s}]")
    await conn.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
