"""What PostgreSQL's backend spends, in CPU, on a decision batch's outbox documents when the
column is `jsonb` (main) and when it is `json`: the insert (each document parsed into jsonb's
binary form, against only checked) and the relay's read of the same rows (`payload::text`, jsonb
printed again, against the stored text given back).

The decided and settled outbox rows of a finished `bench/reconciliation.py` run are sent again
as the batch sends them (one array per column, documents as text, new ids) and read back as the
relay reads them, in a rolled-back transaction, the two column types alternating (the `json`
one by `ALTER TABLE … TYPE json` inside that transaction); the backend's time on CPU around
each statement alone, from /proc/<backend pid>/schedstat (ns).

    python outbox_json_cpu.py DATABASE_URL ROUNDS"""

import asyncio
import statistics
import sys
import uuid

import asyncpg

OUTBOX = (
    "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, "
    "traceparent) SELECT r.ce_id, r.ce_type, r.ce_source, r.ce_time, r.ce_subject, r.topic, "
    "r.key, r.payload::{t}, r.traceparent FROM unnest($1::uuid[], $2::text[], $3::text[], "
    "$4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH "
    "ORDINALITY AS r(ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, "
    "traceparent, n) ORDER BY r.n RETURNING id"
)
READ = (
    "SELECT id, ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload::text AS "
    "payload, created_at, traceparent FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id"
)


def oncpu(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


async def main(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    ob = await conn.fetch(
        "SELECT ce_type, ce_source, ce_time, ce_subject, topic, key, payload::text AS payload, "
        "traceparent FROM outbox WHERE ce_type LIKE '%case_decided%' OR ce_type LIKE "
        "'%case_settled%' ORDER BY id"
    )
    results: dict[str, list[float]] = {}
    for rnd in range(rounds):
        order = ["jsonb", "json"] if rnd % 2 == 0 else ["json", "jsonb"]
        for t in order:
            args = [[uuid.uuid4() for _ in ob], *[[r[i] for r in ob] for i in range(8)]]
            tr = conn.transaction()
            await tr.start()
            if t == "json":
                await conn.execute("ALTER TABLE outbox ALTER COLUMN payload TYPE json")
            before = oncpu(pid)
            ids = [r["id"] for r in await conn.fetch(OUTBOX.format(t=t), *args)]
            mid = oncpu(pid)
            await conn.fetch(READ, ids)
            after = oncpu(pid)
            await tr.rollback()
            results.setdefault(f"insert {t}", []).append((mid - before) / 1e6)
            results.setdefault(f"read {t}", []).append((after - mid) / 1e6)
    print(f"rows: {len(ob)} outbox rows (decided and settled documents)")
    for name, xs in sorted(results.items()):
        xs_s = ", ".join(f"{x:.1f}" for x in xs)
        print(f"{name:14s} median {statistics.median(xs):7.1f} ms  [{xs_s}]")
    await conn.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
