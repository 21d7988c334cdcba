"""Migration c3a7e9d1f5b2 on the real PostgreSQL: a team's queue (its tasks, soonest due first,
as `tasks.repository.listing` pages them) is read through an index on the task's team instead of
a scan of every team's tasks, and the migration goes down (no such index) and up."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from sqlalchemy import text

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

_INDEX = "ix_case_tasks_team_due"

# 30,000 tasks of six teams on 10,000 cases, a few hundred of them the warehouse's: a team's
# queue is a small share of the table, as on a desk with many teams asked things.
_TASKS = [
    "INSERT INTO case_tasks (task_id, case_id, team, ask, due_at, status, blocks_settlement, "
    "created_by, created_at) SELECT md5('k' || g)::uuid, 'CASE-' || (g % 10000), "
    "(ARRAY['finance','logistics_partner_ops','brand_management','technology','management'])"
    "[1 + g % 5], 'an ask', timestamptz '2026-01-01' + g * interval '7 minutes', "
    "CASE WHEN g % 3 = 0 THEN 'OPEN' ELSE 'DONE' END, false, 'ops.agent', "
    "timestamptz '2026-01-01' FROM generate_series(1, 30000) g",
    "INSERT INTO case_tasks (task_id, case_id, team, ask, due_at, status, blocks_settlement, "
    "created_by, created_at) SELECT md5('w' || g)::uuid, 'CASE-W' || g, 'warehouse', 'an ask', "
    "timestamptz '2026-01-01' + g * interval '1 hour', 'OPEN', false, 'ops.agent', "
    "timestamptz '2026-01-01' FROM generate_series(1, 300) g",
    "ANALYZE case_tasks",
]
# The warehouse's first page of its queue.
_QUEUE = (
    "EXPLAIN (FORMAT JSON) SELECT * FROM case_tasks WHERE team = 'warehouse' "
    "ORDER BY due_at, task_id LIMIT 50"
)


def _dsn(url: Any) -> str:
    return str(url).replace("postgresql+asyncpg://", "postgresql://", 1)


def _nodes(plan: dict[str, Any]) -> list[str]:
    found = [f"{plan['Node Type']}:{plan.get('Index Name', '')}"]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


async def _indexes(engine: Any) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'case_tasks'")
        )
    return {r[0] for r in rows}


async def test_a_teams_queue_is_read_through_its_index_down_and_up(harness: Harness) -> None:
    async with scratch_database(harness, "test_case_tasks_team_index") as (url, engine):
        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert _INDEX in await _indexes(engine)
        conn = await asyncpg.connect(_dsn(url))
        try:
            for statement in _TASKS:
                await conn.execute(statement)
            plan = _nodes(json.loads(await conn.fetchval(_QUEUE))[0]["Plan"])
            assert f"Index Scan:{_INDEX}" in plan, plan
            assert not any(n.startswith("Seq Scan") for n in plan), plan
        finally:
            await conn.close()

        await asyncio.to_thread(downgrade, "reconciliation", url, "b5e9d3c7a1f8")
        assert _INDEX not in await _indexes(engine)
        await asyncio.to_thread(upgrade, "reconciliation", url)
        assert _INDEX in await _indexes(engine)
