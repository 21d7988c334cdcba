"""What PostgreSQL's backend spends, in CPU, on a decision batch's array INSERT in two forms:

- main: `SELECT … FROM unnest($1, …, $n) WITH ORDINALITY AS r(…, n) ORDER BY r.n`: a
  multi-argument unnest in FROM is a function scan, which first copies every array's elements
  into a tuplestore, then a sort by the ordinal copies every row (2.4 KB documents included)
  again, to restore an order the rows already have;
- select-list: `SELECT r.… FROM (SELECT unnest($1) AS …, …, unnest($n) AS …) AS r`: the
  set-returning functions run in lockstep in the select list (a ProjectSet node), each row
  handed to the INSERT as it is made, in the arrays' order, nothing copied or sorted.

A 500-decision batch's rows (the first 1,000 decided and settled timeline and outbox rows of a
finished `bench/reconciliation.py` run, as the batch sends them: one array per column, JSON as
text cast to jsonb, new ids) are inserted in each form in a rolled-back transaction,
alternating; the backend's CPU time around the statement alone, from
/proc/<backend pid>/schedstat (ns). Each form's ids are checked to follow the arrays' order.

    python unnest_form_cpu.py DATABASE_URL ROUNDS"""

import asyncio
import statistics
import sys
import uuid

import asyncpg

TL_COLS = ["case_id", "case_version", "kind", "actor", "reason", "data", "occurred_at"]
TL_TYPES = ["text", "integer", "text", "text", "text", "text", "timestamptz"]
OB_COLS = ["ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "topic", "key", "payload",
           "traceparent"]
OB_TYPES = ["uuid", "text", "text", "timestamptz", "text", "text", "text", "text", "text"]
JSON = {"data", "payload"}


def sel(cols: list[str]) -> str:
    return ", ".join(f"r.{c}::jsonb" if c in JSON else f"r.{c}" for c in cols)


def main_form(table: str, cols: list[str], types: list[str]) -> str:
    arrays = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    names = ", ".join(cols)
    return (f"INSERT INTO {table} ({names}) SELECT {sel(cols)} FROM unnest({arrays}) WITH "
            f"ORDINALITY AS r({names}, n) ORDER BY r.n RETURNING id")


def list_form(table: str, cols: list[str], types: list[str]) -> str:
    srfs = ", ".join(f"unnest(${i + 1}::{t}[]) AS {c}" for i, (c, t) in enumerate(zip(cols, types)))
    return (f"INSERT INTO {table} ({', '.join(cols)}) SELECT {sel(cols)} FROM (SELECT {srfs}) "
            f"AS r RETURNING id")


def oncpu(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


async def main(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    tl = await conn.fetch(
        "SELECT case_id, case_version, kind, actor, reason, data::text AS data, occurred_at "
        "FROM case_timeline WHERE kind IN ('CaseDecided', 'CaseSettled') ORDER BY id LIMIT 1000"
    )
    ob = await conn.fetch(
        "SELECT ce_type, ce_source, ce_time, ce_subject, topic, key, payload::text AS payload, "
        "traceparent FROM outbox WHERE ce_type LIKE '%case_decided%' OR ce_type LIKE "
        "'%case_settled%' ORDER BY id LIMIT 1000"
    )
    tl_args = [[r[i] for r in tl] for i in range(7)]
    results: dict[str, list[float]] = {}
    for rnd in range(rounds):
        order = ["main", "select-list"] if rnd % 2 == 0 else ["select-list", "main"]
        for table in ("case_timeline", "outbox"):
            cols, types = (TL_COLS, TL_TYPES) if table == "case_timeline" else (OB_COLS, OB_TYPES)
            for form in order:
                stmt = (main_form if form == "main" else list_form)(table, cols, types)
                if table == "case_timeline":
                    args = tl_args
                else:
                    args = [[uuid.uuid4() for _ in ob], *[[r[i] for r in ob] for i in range(8)]]
                tr = conn.transaction()
                await tr.start()
                before = oncpu(pid)
                ids = [r["id"] for r in await conn.fetch(stmt, *args)]
                spent = (oncpu(pid) - before) / 1e6
                if table == "outbox":  # ids follow the arrays' order
                    got = await conn.fetch(
                        "SELECT ce_id FROM outbox WHERE id = ANY($1) ORDER BY id", ids
                    )
                    assert [r["ce_id"] for r in got] == args[0], form
                else:
                    got = await conn.fetch(
                        "SELECT case_id, kind FROM case_timeline WHERE id = ANY($1) ORDER BY id",
                        ids,
                    )
                    assert [(r["case_id"], r["kind"]) for r in got] == list(
                        zip(tl_args[0], tl_args[2])
                    ), form
                await tr.rollback()
                results.setdefault(f"{table} {form}", []).append(spent)
    print(f"rows: timeline {len(tl)}, outbox {len(ob)}; ids in the arrays' order in every form")
    for name, xs in results.items():
        xs_s = ", ".join(f"{x:.1f}" for x in xs)
        print(f"{name:26s} median {statistics.median(xs):6.1f} ms  [{xs_s}]")
    await conn.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
