"""Migration d1f7b3a9e6c2 on the real PostgreSQL: a ledger line must name a ledger transaction
that exists, checked once per INSERT statement (with the lines' balance) instead of by a foreign
key per line. A line of no transaction is refused with the foreign key's error class before and
after, a batch of lines of existing transactions is stored, and no per-line referential check
is left on `ledger_entries`. The migration goes down (the foreign key back) and up."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

_TRANSACTIONS = (
    "INSERT INTO ledger_transactions (transaction_id, case_id, kind, description, posted_at) "
    "SELECT t, 'CASE-SQL', 'SETTLEMENT', 'written in SQL', now() FROM unnest($1::uuid[]) AS t"
)
# Two lines per transaction that balance, in one statement, as a consumer batch writes them.
_LINES = (
    "INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, amount, "
    "posted_at) SELECT t, 'CASE-SQL', 'protection_fund', 'protection_fund', a, now() "
    "FROM unnest($1::uuid[]) AS t, unnest(ARRAY[700, -700]::bigint[]) AS a"
)


def _dsn(url: Any) -> str:
    return str(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _per_line_checks(engine: Any) -> int:
    """Foreign keys of `ledger_entries` (each a referential check and parent lock per line)."""
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_constraint "
                "WHERE conrelid = 'ledger_entries'::regclass AND contype = 'f'"
            )
        )
    return int(count)


async def _writes(url: Any) -> tuple[int, int]:
    """A batch of three transactions with their lines stored, and a statement whose lines name
    one existing transaction and one that does not exist refused whole: the lines stored after
    both, counted."""
    existing = [uuid.uuid4() for _ in range(3)]
    conn = await asyncpg.connect(_dsn(url))
    try:
        async with conn.transaction():
            await conn.execute(_TRANSACTIONS, existing)
            await conn.execute(_LINES, existing)
        stored = await conn.fetchval(
            "SELECT count(*) FROM ledger_entries WHERE transaction_id = ANY($1::uuid[])", existing
        )
        orphan = uuid.uuid4()
        with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
            async with conn.transaction():
                await conn.execute(_LINES, [existing[0], orphan])
        # As the foreign key words it: callers name the column from the detail.
        assert refused.value.constraint_name == "ledger_entries_transaction_id_fkey"
        assert refused.value.detail == (
            f'Key (transaction_id)=({orphan}) is not present in table "ledger_transactions".'
        )
        after = await conn.fetchval("SELECT count(*) FROM ledger_entries")
    finally:
        await conn.close()
    return int(stored), int(after)


async def test_a_line_must_name_an_existing_transaction_checked_per_statement_down_and_up(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "test_ledger_lines_parent") as (url, engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _per_line_checks(engine) == 0
        assert await _writes(url) == (6, 6)

        await asyncio.to_thread(downgrade, "reconciliation", url, "c3e8a1f6d4b2")
        # Before the migration the foreign key refuses the same line: the same error class.
        assert await _per_line_checks(engine) == 1
        assert await _writes(url) == (6, 12)

        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _per_line_checks(engine) == 0
        assert await _writes(url) == (6, 18)
