"""Migration b5e9d3c7a1f8 on the real PostgreSQL: a ledger line goes into the indexes a query
reads (its id, its transaction, its account over a period) and no others, a partner statement's
month is found through one index, and a statement's lines are checked to balance on their own:
what is refused and what is stored is the same before and after. The migration goes down (the
five indexes and the sum over stored lines back) and up."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
from sqlalchemy import text

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

_KEPT = {
    "ledger_entries_pkey",
    "ix_ledger_entries_transaction_id",
    "ix_ledger_entries_account_posted_at",
}
_BEFORE = {
    "ledger_entries_pkey",
    "ix_ledger_entries_transaction_id",
    "ix_ledger_entries_case_id",
    "ix_ledger_entries_account",
    "ix_ledger_entries_posted_at",
}

# 6,000 settlements of a year, each a seller's credit, the fund's and a partner's debit; 40
# partners, so a partner's month is a few dozen lines among 18,000.
_LEDGER = [
    "INSERT INTO ledger_transactions (transaction_id, case_id, kind, description, posted_at) "
    "SELECT md5('t' || g)::uuid, 'CASE-' || g, 'SETTLEMENT', 'generated', "
    "timestamptz '2026-01-01' + g * interval '90 minutes' FROM generate_series(1, 6000) g",
    "INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, amount, "
    "posted_at) SELECT md5('t' || g)::uuid, 'CASE-' || g, a.account, a.account_type, a.amount, "
    "timestamptz '2026-01-01' + g * interval '90 minutes' FROM generate_series(1, 6000) g, "
    "LATERAL (VALUES ('seller_payable:S-' || (g % 900), 'seller_payable', -1000), "
    "('protection_fund', 'protection_fund', 600), "
    "('partner_receivable:P-' || (g % 40), 'partner_receivable', 400)) "
    "AS a(account, account_type, amount)",
    "ANALYZE ledger_entries",
]
# A partner statement's month, as `ledger.repository.account_entries` reads it.
_MONTH = (
    "EXPLAIN (FORMAT JSON) SELECT * FROM ledger_entries WHERE account = 'partner_receivable:P-7' "
    "AND posted_at >= '2026-03-01' AND posted_at < '2026-04-01' ORDER BY posted_at, id"
)
_LINES = (
    "INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, amount, "
    "posted_at) SELECT $1, 'CASE-SQL', 'protection_fund', 'protection_fund', a, now() "
    "FROM unnest($2::bigint[]) AS a"
)


def _dsn(url: Any) -> str:
    return str(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _indexes(engine: Any) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_entries'")
        )
    return {r[0] for r in rows}


def _index_scans(plan: dict[str, Any]) -> list[str]:
    """The node types and index names of a JSON plan, depth first."""
    found = [f"{plan['Node Type']}:{plan.get('Index Name', '')}"]
    for child in plan.get("Plans", []):
        found += _index_scans(child)
    return found


async def _month_plan(conn: asyncpg.Connection) -> list[str]:
    plan = json.loads(await conn.fetchval(_MONTH))
    return [n for n in _index_scans(plan[0]["Plan"]) if "Index" in n or "Bitmap" in n]


async def _balances(conn: asyncpg.Connection) -> list[str]:
    """Statements of lines for one transaction, in order, each stored or refused: what
    happened to each."""
    transaction_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO ledger_transactions (transaction_id, case_id, kind, description, posted_at) "
        "VALUES ($1, 'CASE-SQL', 'SETTLEMENT', 'written in SQL', now())",
        transaction_id,
    )
    outcomes = []
    for amounts in ([900, -900], [5], [300, -250, -50], [40, -39], [-1]):
        try:
            async with conn.transaction():
                await conn.execute(_LINES, transaction_id, amounts)
            outcomes.append("stored")
        except asyncpg.CheckViolationError as refused:
            outcomes.append(str(refused).split(": ", 1)[1])
    total = await conn.fetchval(
        "SELECT sum(amount) FROM ledger_entries WHERE transaction_id = $1", transaction_id
    )
    assert total == 0
    return outcomes


_OUTCOMES = [
    "stored",
    "lines sum to 5 paise",
    "stored",
    "lines sum to 1 paise",
    "lines sum to -1 paise",
]


async def test_ledger_lines_go_into_the_indexes_queries_read_down_and_up(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "test_ledger_lines_indexes") as (url, engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _indexes(engine) == _KEPT
        conn = await asyncpg.connect(_dsn(url))
        try:
            for statement in _LEDGER:
                await conn.execute(statement)
            # One index finds the partner's month: no BitmapAnd of an account index and a
            # posting-time index.
            assert await _month_plan(conn) in (
                ["Index Scan:ix_ledger_entries_account_posted_at"],
                ["Bitmap Heap Scan:", "Bitmap Index Scan:ix_ledger_entries_account_posted_at"],
            )
            assert await _balances(conn) == _OUTCOMES
        finally:
            await conn.close()

        await asyncio.to_thread(downgrade, "reconciliation", url, "e7b2d5f9a3c6")
        assert await _indexes(engine) == _BEFORE
        conn = await asyncpg.connect(_dsn(url))
        try:
            # Before the migration, the same statements have the same outcomes and words.
            assert await _balances(conn) == _OUTCOMES
        finally:
            await conn.close()

        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert await _indexes(engine) == _KEPT
