"""What PostgreSQL's backend spends, in CPU and WAL, on a decision batch's documents, replayed from
the stored rows of a finished 1,000-decision `consumer_cpu.py run decisions` (main's schema):

  timeline  the decided and settled timeline rows (2,000), inserted as the batch inserts them (one
            array per column, documents as text) into a copy of `case_timeline` whose `data` is
            `jsonb` (main) or `json` (this change), then read back as the case API reads them
            (`data` as the driver receives it: jsonb printed, json given back);
  outbox    the decided and settled outbox rows (2,000), inserted as the batch inserts them into
            a copy of `outbox`, claimed as the relay claims them (its lock-and-claim statement,
            500 a round) and marked published (`published_at`, by id), with the payload stored
            inline (main: `toast_tuple_target = 8160`) or out of line (`STORAGE EXTERNAL`,
            `toast_tuple_target = 128`: the mark's new row version carries a pointer to the
            unchanged document, not the document).

Each variant's table is created in a transaction that is rolled back afterwards; the variants
alternate, round after round. CPU: the backend's time on CPU around each statement alone, from
/proc/<backend pid>/schedstat (ns). WAL: pg_current_wal_insert_lsn() before and after.

    python stored_docs_cpu.py DATABASE_URL ROUNDS"""

import asyncio
import statistics
import sys
import uuid

import asyncpg

TIMELINE_INSERT = (
    "INSERT INTO {t} (case_id, case_version, kind, actor, reason, data, occurred_at) "
    "SELECT r.case_id, r.case_version, r.kind, r.actor, r.reason, r.data::{ty}, r.occurred_at "
    "FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::timestamptz[]) WITH ORDINALITY AS r(case_id, case_version, kind, actor, reason, data, "
    "occurred_at, n) ORDER BY r.n RETURNING id"
)
TIMELINE_READ = "SELECT id, case_id, case_version, kind, actor, reason, data, occurred_at FROM {t} WHERE id = ANY($1::bigint[]) ORDER BY id"
OUTBOX_INSERT = (
    "INSERT INTO {t} (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, "
    "traceparent) SELECT r.ce_id, r.ce_type, r.ce_source, r.ce_time, r.ce_subject, r.topic, "
    "r.key, r.payload::json, r.traceparent FROM unnest($1::uuid[], $2::text[], $3::text[], "
    "$4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH "
    "ORDINALITY AS r(ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload, "
    "traceparent, n) ORDER BY r.n"
)
# The relay's round (shared/outbox.py), on the copy.
CLAIM = """
    WITH locked AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1) AS held)
    SELECT locked.held, claimed.*
    FROM locked
    LEFT JOIN LATERAL (
        SELECT id, ce_id::text AS ce_id, ce_type, ce_source, ce_time, ce_subject,
               topic, key, convert_to(payload::text, 'UTF8') AS payload, created_at,
               traceparent
        FROM {t}
        WHERE locked.held AND published_at IS NULL
        ORDER BY id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    ) AS claimed ON true
"""
MARK = "UPDATE {t} SET published_at = now() WHERE id = ANY($1::bigint[])"
PENDING_FN = """
    CREATE FUNCTION ob_pending_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO ob_pending SELECT id FROM new_rows; RETURN NULL; END $$
"""
PENDING_CLAIM = """
    WITH locked AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1) AS held)
    SELECT locked.held, claimed.*
    FROM locked
    LEFT JOIN LATERAL (
        SELECT o.id, ce_id::text AS ce_id, ce_type, ce_source, ce_time, ce_subject,
               topic, key, convert_to(payload::text, 'UTF8') AS payload, created_at,
               traceparent
        FROM ob_pending p JOIN {t} o ON o.id = p.id
        WHERE locked.held
        ORDER BY p.id
        LIMIT $2
        FOR UPDATE OF p SKIP LOCKED
    ) AS claimed ON true
"""
PENDING_MARK = (
    "WITH gone AS (DELETE FROM ob_pending WHERE id = ANY($1::bigint[]) RETURNING id) "
    "UPDATE {t} SET published_at = now() WHERE id IN (SELECT id FROM gone)"
)


def oncpu(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


class Meter:
    def __init__(self, conn: asyncpg.Connection, pid: int) -> None:
        self.conn, self.pid = conn, pid
        self.cpu: dict[str, list[float]] = {}
        self.wal: dict[str, list[int]] = {}

    async def lsn(self) -> int:
        return int(await self.conn.fetchval("SELECT pg_current_wal_insert_lsn() - '0/0'"))

    async def run(self, name: str, coro_fn) -> object:
        w0 = await self.lsn()
        c0 = oncpu(self.pid)
        result = await coro_fn()
        c1 = oncpu(self.pid)
        w1 = await self.lsn()
        self.cpu.setdefault(name, []).append((c1 - c0) / 1e6)
        self.wal.setdefault(name, []).append(w1 - w0)
        return result


async def timeline_round(m: Meter, rows: list, ty: str) -> None:
    conn = m.conn
    tr = conn.transaction()
    await tr.start()
    await conn.execute("CREATE TABLE tl_copy (LIKE case_timeline INCLUDING ALL)")
    await conn.execute("ALTER TABLE tl_copy SET (toast_tuple_target = 8160)")
    if ty == "json":
        await conn.execute("ALTER TABLE tl_copy ALTER COLUMN data TYPE json")
    args = [[r[i] for r in rows] for i in range(7)]
    ids = await m.run(
        f"timeline insert {ty}",
        lambda: conn.fetch(TIMELINE_INSERT.format(t="tl_copy", ty=ty), *args),
    )
    ids = [r["id"] for r in ids]
    await m.run(f"timeline read {ty}", lambda: conn.fetch(TIMELINE_READ.format(t="tl_copy"), ids))
    await tr.rollback()


async def outbox_round(m: Meter, rows: list, storage: str) -> None:
    conn = m.conn
    tr = conn.transaction()
    await tr.start()
    await conn.execute("CREATE TABLE ob_copy (LIKE outbox INCLUDING ALL)")
    claim, mark = CLAIM, MARK
    if storage == "inline":
        await conn.execute("ALTER TABLE ob_copy SET (toast_tuple_target = 8160)")
    elif storage == "pending":
        # No index names `published_at` (the mark can be HOT, with room on the page); the
        # unpublished ids are a queue table of their own, filled by a statement trigger.
        await conn.execute("ALTER TABLE ob_copy SET (toast_tuple_target = 8160, fillfactor = 50)")
        idx = await conn.fetchval(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'ob_copy' AND indexdef LIKE '%published_at%'"
        )
        await conn.execute(f"DROP INDEX {idx}")
        await conn.execute("CREATE TABLE ob_pending (id bigint PRIMARY KEY)")
        await conn.execute(PENDING_FN)
        await conn.execute(
            "CREATE TRIGGER ob_pending_fill AFTER INSERT ON ob_copy REFERENCING NEW TABLE AS "
            "new_rows FOR EACH STATEMENT EXECUTE FUNCTION ob_pending_fill()"
        )
        claim, mark = PENDING_CLAIM, PENDING_MARK
    else:
        await conn.execute("ALTER TABLE ob_copy SET (toast_tuple_target = 128)")
        await conn.execute("ALTER TABLE ob_copy ALTER COLUMN payload SET STORAGE EXTERNAL")
    args = [[uuid.uuid4() for _ in rows], *[[r[i] for r in rows] for i in range(8)]]
    await m.run(
        f"outbox insert {storage}", lambda: conn.execute(OUTBOX_INSERT.format(t="ob_copy"), *args)
    )
    # In one transaction the claimed rows stay unpublished to the claim: claim 500 at a time by
    # marking each round's rows before the next claim, as the relay's rounds do.
    async def rounds() -> None:
        offset = 0
        while offset < len(rows):
            got = await m.run(
                f"outbox claim {storage}", lambda: conn.fetch(claim.format(t="ob_copy"), 7, 500)
            )
            ids = [r["id"] for r in got if r["id"] is not None]
            if not ids:
                return
            await m.run(f"outbox mark {storage}", lambda: conn.execute(mark.format(t="ob_copy"), ids))
            offset += len(ids)

    await rounds()
    size = await conn.fetchval(
        "SELECT pg_total_relation_size('ob_copy') + coalesce(pg_total_relation_size(to_regclass('ob_pending')), 0)"
    )
    hot = await conn.fetchval("SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'ob_copy'")
    m.wal.setdefault(f"outbox hot {storage}", []).append(hot)
    m.wal.setdefault(f"outbox size {storage}", []).append(size)
    await tr.rollback()


def report(m: Meter, per: dict[str, int]) -> None:
    for name in sorted(m.cpu):
        xs = m.cpu[name]
        n = per.get(name, 1)
        ws = m.wal[name]
        print(
            f"{name:24s} cpu median {statistics.median(xs) * n:7.1f} ms"
            f"  wal median {statistics.median(ws) * n / 1e6:6.2f} MB  [{', '.join(f'{x:.1f}' for x in xs)}]"
        )
    for name in sorted(k for k in m.wal if k.startswith("outbox hot")):
        print(f"{name:24s} {statistics.median(m.wal[name]):.0f} of the mark's updates HOT")
    for name in sorted(k for k in m.wal if k.startswith("outbox size")):
        print(f"{name:24s} {statistics.median(m.wal[name]) / 1e6:.2f} MB (table, toast, indexes)")


async def main(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url, statement_cache_size=0)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    tl = await conn.fetch(
        "SELECT case_id, case_version, kind, actor, reason, data::text, occurred_at "
        "FROM case_timeline WHERE kind IN ('CaseDecided', 'CaseSettled') ORDER BY id"
    )
    ob = await conn.fetch(
        "SELECT ce_type, ce_source, ce_time, ce_subject, topic, key, payload::text AS payload, "
        "traceparent FROM outbox WHERE ce_type LIKE '%case_decided%' OR ce_type LIKE "
        "'%case_settled%' ORDER BY id"
    )
    m = Meter(conn, pid)
    for rnd in range(rounds):
        for ty in (["jsonb", "json"] if rnd % 2 == 0 else ["json", "jsonb"]):
            await timeline_round(m, tl, ty)
        variants = ["inline", "external", "pending"]
        for st in variants if rnd % 2 == 0 else variants[::-1]:
            await outbox_round(m, ob, st)
    print(f"rows: {len(tl)} timeline rows, {len(ob)} outbox rows (decided and settled documents)")
    print("per statement class, all of a round's statements summed (claim and mark: 4 rounds of 500)")
    # claim and mark run 4 times a round: sum a round's four for the per-2,000-row figure.
    for name in list(m.cpu):
        if name.startswith(("outbox claim", "outbox mark")):
            xs, ws = m.cpu[name], m.wal[name]
            m.cpu[name] = [sum(xs[i : i + 4]) for i in range(0, len(xs), 4)]
            m.wal[name] = [sum(ws[i : i + 4]) for i in range(0, len(ws), 4)]
    report(m, {})
    await conn.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
