"""Fraud's migrations on a real PostgreSQL: counters added after the facts they count are
recomputed from those facts when the schema moves on; indexes come and go with their revision."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.fraud import new_fraud_db

FACTS = """
    INSERT INTO return_facts (return_id, buyer_id, qc_result, qc_agent_id, terminal, incident,
                              claim_type, hubs, pair_counted)
    VALUES
      ('R1', 'B1', 'PASSED', 'QA', 'DELIVERED_TO_SELLER', false, 'WRONG_ITEM', '[]', true),
      ('R2', 'B1', 'PASSED', 'QA', 'DELIVERED_TO_SELLER', false, NULL, '[]', true),
      -- light in transit: the claim names the partner's handling, not the buyer
      ('R3', 'B1', 'PASSED', 'QA', 'DELIVERED_TO_SELLER', true, 'USED_ITEM', '[]', true),
      -- a claim that names no one, a failed QC, a parcel still on its way
      ('R4', 'B2', 'PASSED', 'QA', 'DELIVERED_TO_SELLER', false, 'DAMAGED', '[]', true),
      ('R5', 'B2', 'FAILED', 'QA', 'DELIVERED_TO_SELLER', false, 'WRONG_ITEM', '[]', true),
      ('R6', 'B2', 'PASSED', 'QB', NULL, false, NULL, '[]', true)
"""


async def test_qc_agent_buyer_counters_are_recomputed_from_the_facts(harness: Harness) -> None:
    url = await new_fraud_db(harness, "test_fraud_migrations", "c3b1d2e4f5a6")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(FACTS))
            # What the counters held before: only the returns scored since they came.
            await conn.execute(
                text(
                    "INSERT INTO pair_counts (kind, left_id, right_id, metric, n) "
                    "VALUES ('qc_agent_buyer', 'QA', 'B1', 'delivered', 1)"
                )
            )
        await asyncio.to_thread(upgrade, "fraud", url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT left_id, right_id, metric, n FROM pair_counts "
                        "WHERE kind = 'qc_agent_buyer' ORDER BY 1, 2, 3"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("QA", "B1", "delivered", 3),
        ("QA", "B1", "named", 1),
        ("QA", "B2", "delivered", 1),
    ]


# The returns behind an address, as `features.identity_orders` reads them.
BEHIND_ADDRESS = (
    "SELECT return_id FROM return_facts WHERE address_hash = :h AND order_id IS NOT NULL "
    "AND (terminal_at >= :since OR claimed_at >= :since)"
)


async def _hash_indexes(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(
        text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'return_facts' "
            "AND indexname LIKE '%\\_hash' ORDER BY 1"
        )
    )
    return [str(r[0]) for r in rows]


async def _plan_indexes(conn: AsyncConnection) -> str:
    """The plan of the read behind an address, sequential scans off: which index it takes."""
    await conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = await conn.execute(
        text(f"EXPLAIN {BEHIND_ADDRESS}"),
        {"h": "a" * 64, "since": datetime(2026, 5, 1, tzinfo=UTC)},
    )
    return "\n".join(str(r[0]) for r in plan)


async def test_the_returns_behind_a_contact_or_address_are_indexed_down_and_up(
    harness: Harness,
) -> None:
    url = await new_fraud_db(harness, "test_fraud_identity_indexes")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO return_facts (return_id, order_id, address_hash, contact_hash, "
                    "terminal, terminal_at, incident, hubs, pair_counted) "
                    "SELECT 'R' || g, 'O' || (g / 2), md5(g::text) || md5(g::text), md5(g::text), "
                    "'DELIVERED_TO_SELLER', timestamptz '2026-05-01' + g * interval '1 minute', "
                    "false, '[]', true FROM generate_series(1, 2000) g"
                )
            )
            await conn.execute(text("ANALYZE return_facts"))
        async with engine.begin() as conn:
            assert await _hash_indexes(conn) == [
                "ix_return_facts_address_hash",
                "ix_return_facts_contact_hash",
            ]
            assert "ix_return_facts_address_hash" in await _plan_indexes(conn)

        await asyncio.to_thread(downgrade, "fraud", url, "a9c3e5f7b214")
        async with engine.begin() as conn:
            assert await _hash_indexes(conn) == []
            assert "ix_return_facts_address_hash" not in await _plan_indexes(conn)
            kept = await conn.scalar(text("SELECT count(*) FROM return_facts"))
        assert kept == 2000

        await asyncio.to_thread(upgrade, "fraud", url)
        async with engine.begin() as conn:
            assert len(await _hash_indexes(conn)) == 2
            assert "ix_return_facts_address_hash" in await _plan_indexes(conn)
    finally:
        await engine.dispose()
