"""Migration f2d8b4a6c9e1 on the real PostgreSQL: the cases' assignee index holds the assigned
cases alone (an unassigned case's insert and every rewrite of its row skip it), and the desk
queue's assignee filter still reads through it and finds the same cases. The migration goes
down (the full index back, an entry per case) and up."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

# 3,000 cases, every tenth assigned to one of three people.
_CASES = (
    "INSERT INTO cases (case_id, return_id, seller_id, origin, state, version, opened_at, "
    "updated_at, assignee) SELECT 'CASE-' || g, 'RET-' || g, 'S-' || (g % 50), 'ESCALATION', "
    "'UNDER_REVIEW', 1, timestamptz '2026-11-01' + g * interval '1 minute', "
    "timestamptz '2026-11-01' + g * interval '1 minute', "
    "CASE WHEN g % 10 = 0 THEN 'desk-' || (g % 3) END FROM generate_series(1, 3000) g"
)
# Every case's row rewritten as a decision rewrites it (its state changed: never HOT).
_DECIDE = "UPDATE cases SET state = 'CLOSED', version = version + 1"
# The queue's assignee filter, as `cases.repository.queue` sends it (the value a parameter).
_QUEUE = "SELECT case_id FROM cases WHERE assignee = $1 ORDER BY opened_at, case_id LIMIT 50"


def _dsn(url: Any) -> str:
    return str(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _entries(conn: asyncpg.Connection) -> int:
    """How many entries the assignee index holds (VACUUM counts them into reltuples)."""
    await conn.execute("VACUUM cases")
    return int(
        await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'ix_cases_assignee'")
    )


def _index_names(plan: dict[str, Any]) -> list[str]:
    found = [plan["Index Name"]] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        found += _index_names(child)
    return found


async def _queue(conn: asyncpg.Connection) -> tuple[list[str], list[str]]:
    """The cases the filter finds for desk-1, and the indexes its generic plan reads."""
    found = [r["case_id"] for r in await conn.fetch(_QUEUE, "desk-1")]
    async with conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute("SET LOCAL enable_seqscan = off")
        await conn.execute(f"PREPARE by_assignee(text) AS {_QUEUE}")
        plan = json.loads(await conn.fetchval("EXPLAIN (FORMAT JSON) EXECUTE by_assignee('x')"))
        await conn.execute("DEALLOCATE by_assignee")
    return found, _index_names(plan[0]["Plan"])


async def test_only_assigned_cases_have_an_assignee_index_entry_down_and_up(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "test_cases_assignee_index") as (url, _engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        conn = await asyncpg.connect(_dsn(url))
        try:
            await conn.execute(_CASES)
            await conn.execute(_DECIDE)
            await conn.execute("ANALYZE cases")
            # 300 assigned cases; the 2,700 others have no entry, before or after their rewrite.
            assert await _entries(conn) == 300
            found, indexes = await _queue(conn)
            assert "ix_cases_assignee" in indexes
            assert len(found) == 50 and found[0] == "CASE-10"
        finally:
            await conn.close()

        await asyncio.to_thread(downgrade, "reconciliation", url, "c3a7e9d1f5b2")
        conn = await asyncpg.connect(_dsn(url))
        try:
            # Before the migration, every case has an entry, and the filter finds the same.
            assert await _entries(conn) == 3000
            assert (await _queue(conn))[0] == found
        finally:
            await conn.close()

        await asyncio.to_thread(upgrade, "reconciliation", url)
        conn = await asyncpg.connect(_dsn(url))
        try:
            assert await _entries(conn) == 300
            assert (await _queue(conn))[0] == found
        finally:
            await conn.close()
