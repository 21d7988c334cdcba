"""Fraud's data migrations on a real PostgreSQL: counters added after the facts they count are
recomputed from those facts when the schema moves on."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import upgrade
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
