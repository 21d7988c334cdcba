"""The e2e benchmark's count of each service database's commits over a step: every transaction
a database committed in the window, an autocommitted statement's and a new connection's start
too, none of another database's, and none of the meter's own reads."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from bench.e2e.commits import CommitMeter
from tests.conftest import Harness
from tests.support.db import scratch_database


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_step_counts_each_databases_commits_and_not_its_own_reads(
    harness: Harness,
) -> None:
    async with (
        scratch_database(harness, "test_commits_a") as (a, _),
        scratch_database(harness, "test_commits_b") as (b, _),
    ):
        meter = CommitMeter({"intake": a, "fraud": b}, ended_within_s=10.0)
        await meter.start()
        conn = await asyncpg.connect(_dsn(a))
        try:
            await conn.execute("CREATE TABLE t (id int)")
            for i in range(5):  # autocommitted: one transaction each, spaced as a pool's are
                await conn.execute("INSERT INTO t VALUES ($1)", i)
                await asyncio.sleep(0.03)
            async with conn.transaction():  # one transaction, three statements
                for i in range(3):
                    await conn.execute("INSERT INTO t VALUES ($1)", i)
            # Read while the backend lives, it may not have reported them yet: the meter waits.
            reading = asyncio.create_task(meter.per_request(4))
            await asyncio.sleep(1.0)
            assert not reading.done()
        finally:
            await conn.close()  # a backend reports its counts when it ends
        first = await reading
        # Read again: the meter's reads go to the server's `postgres` database, not these.
        again = await meter.per_request(4)
    assert first["complete"] and first["accepted"] == 4
    # The connection's start (PostgreSQL counts it as a transaction), the table, five inserts
    # and the one transaction. Autovacuum's visit of a database is a transaction or two there
    # too, and its launcher may reach a scratch database within the test (about one chance in
    # thirty on a stack of many databases): allowed for, never required.
    assert first["intake"] in range(8, 11)
    assert first["intake_per_request"] == first["intake"] / 4
    assert first["fraud"] in range(0, 3)
    # The meter's own reads go to the `postgres` database: reading again adds none.
    assert again["intake"] in range(first["intake"], first["intake"] + 3)
    assert again["fraud"] in range(first["fraud"], first["fraud"] + 3)
