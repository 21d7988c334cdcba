"""Migration e7b2d5f9a3c6 on the real PostgreSQL: a timeline row must name a case that exists,
checked once per INSERT statement instead of by a foreign key per row. Before and after the
migration, a statement with a row of no case is refused whole with the foreign key's error
class, constraint name and detail; rows of existing cases are stored; a timeline row cannot be
moved to a case that does not exist; a case its timeline names cannot be deleted or given another
id. After it no per-row referential check is left on `case_timeline`, and down and up again."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

_FOREIGN_KEY = "case_timeline_case_id_fkey"
_CASE = (
    "INSERT INTO cases (case_id, return_id, seller_id, origin, state, version, opened_at, "
    "updated_at) VALUES ($1, $1, 'S-1', 'ESCALATION', 'OPEN', 1, now(), now())"
)
# Rows of several cases in one statement, as a consumer batch writes them.
_ROWS = (
    "INSERT INTO case_timeline (case_id, case_version, kind, actor, reason, data) "
    "SELECT c, 1, 'CaseOpened', 'system', 'written in SQL', '{}'::jsonb "
    "FROM unnest($1::text[]) AS c"
)


def _dsn(url: Any) -> str:
    return str(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _per_row_checks(engine: Any) -> int:
    """Foreign keys of `case_timeline` (each a referential check and case-row lock per row)."""
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_constraint "
                "WHERE conrelid = 'case_timeline'::regclass AND contype = 'f'"
            )
        )
    return int(count)


async def _refused(conn: asyncpg.Connection, sql: str, *args: Any) -> asyncpg.PostgresError:
    with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
        async with conn.transaction():
            await conn.execute(sql, *args)
    assert refused.value.constraint_name == _FOREIGN_KEY
    return refused.value


async def _writes(url: Any, round_: int) -> int:
    """Two cases with their rows stored in one statement; each way of breaking the reference
    refused as the foreign key refuses it; the timeline rows of this round counted after."""
    cases = [f"CASE-{round_}-A", f"CASE-{round_}-B"]
    orphan = f"CASE-{round_}-NONE"
    conn = await asyncpg.connect(_dsn(url))
    try:
        async with conn.transaction():
            for case_id in cases:
                await conn.execute(_CASE, case_id)
            await conn.execute(_ROWS, cases)
        refused = await _refused(conn, _ROWS, [cases[0], orphan])
        # Callers name the column from the detail.
        assert refused.detail == f'Key (case_id)=({orphan}) is not present in table "cases".'
        refused = await _refused(
            conn, "UPDATE case_timeline SET case_id = $1 WHERE case_id = $2", orphan, cases[1]
        )
        assert refused.detail == f'Key (case_id)=({orphan}) is not present in table "cases".'
        for sql, args in (
            ("DELETE FROM cases WHERE case_id = $1", (cases[0],)),
            ("UPDATE cases SET case_id = $1 WHERE case_id = $2", (orphan, cases[0])),
        ):
            refused = await _refused(conn, sql, *args)
            assert refused.detail == (
                f'Key (case_id)=({cases[0]}) is still referenced from table "case_timeline".'
            )
        # A case's other columns change freely (what every decision does).
        await conn.execute("UPDATE cases SET state = 'DECIDED' WHERE case_id = $1", cases[0])
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM case_timeline WHERE case_id = ANY($1::text[])", cases
            )
        )
    finally:
        await conn.close()


async def test_a_timeline_row_must_name_an_existing_case_checked_per_statement_down_and_up(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "test_timeline_case_per_statement") as (url, engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _per_row_checks(engine) == 0
        assert await _writes(url, 1) == 2

        await asyncio.to_thread(downgrade, "reconciliation", url, "a9d3f7c2e5b1")
        # Before the migration the foreign key refuses the same statements: the same errors.
        assert await _per_row_checks(engine) == 1
        assert await _writes(url, 2) == 2

        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _per_row_checks(engine) == 0
        assert await _writes(url, 3) == 2
