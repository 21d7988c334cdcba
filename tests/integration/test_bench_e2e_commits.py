"""The e2e benchmark's count of each service database's commits over a step: every transaction
a database committed in the window, an autocommitted statement's and a new connection's start
too, none of another database's, and none of the meter's own reads."""

from __future__ import annotations

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
        meter = CommitMeter({"intake": a, "fraud": b}, settle_s=0.0)
        await meter.start()
        conn = await asyncpg.connect(_dsn(a))
        try:
            await conn.execute("CREATE TABLE t (id int)")
            for i in range(5):  # autocommitted: one transaction each
                await conn.execute("INSERT INTO t VALUES ($1)", i)
            async with conn.transaction():  # one transaction, three statements
                for i in range(3):
                    await conn.execute("INSERT INTO t VALUES ($1)", i)
        finally:
            await conn.close()  # a backend reports its counts when it exits
        # Read twice: the meter's reads go to the server's `postgres` database, not these.
        first = await meter.per_request(4)
        again = await meter.per_request(4)
    assert first == again
    # The connection's start (PostgreSQL counts it as a transaction), the table, five inserts
    # and the one transaction.
    assert first["intake"] == 8 and first["intake_per_request"] == 2.0
    assert first["fraud"] == 0 and first["fraud_per_request"] == 0.0
