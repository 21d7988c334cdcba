"""Measurement, not a test of the suite: the late deliveries of the claims-ahead market
(`tests/integration/test_fraud_claims_ahead_of_deliveries.py`) scored in consumer batches of 150
events, counting per batch the statements `prepare_batch` sends and, after it, the statements
that read a seller's latest counted claim one seller at a time, and every `return_facts` read.
Copy into tests/integration/ to run (it needs the suite's harness); prints one line per run.

usage: cp this tests/integration/ && bash scripts/test.sh tests/integration/test_measure_batch_reads.py -q -s
"""

from __future__ import annotations

import time
import uuid

from services.fraud.features import repository as features
from services.fraud.scoring import service
from services.fraud.scoring.service import assess_event
from tests.conftest import Harness
from tests.integration.test_fraud_claims_ahead_of_deliveries import (
    claim_abuse_alerts,
    market,
    score,
)
from tests.support.fraud import fresh_fraud_db, statements_of

ONE_SELLER = "ORDER BY return_facts.claimed_at DESC"


async def test_measure(harness: Harness) -> None:
    abuser, ahead, behind = market()
    late = [e for j in behind for e in j]
    size = 150
    prepared: list[int] = []
    one_seller = facts_reads = 0
    async with fresh_fraud_db(harness, "measure_batch_reads") as sessions:
        for j in ahead:
            await score(sessions, j)
        started = time.perf_counter()
        for start in range(0, len(late), size):
            batch = late[start : start + size]
            async with sessions() as session, session.begin():
                async with features.deferred_counters(session):
                    with statements_of(session) as statements:
                        await service.prepare_batch(session, batch)
                        n = len(statements)
                        for e in batch:
                            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
                    prepared.append(n)
                    after = statements[n:]
                    one_seller += sum(ONE_SELLER in s for s in after)
                    facts_reads += sum("FROM return_facts" in s for s in after)
        seconds = time.perf_counter() - started
        alerts = await claim_abuse_alerts(sessions)
    print(
        f"\nMEASURE batches={len(prepared)} events={len(late)} prepared_per_batch={prepared} "
        f"one_seller_latest_claim_reads_after_prepare={one_seller} "
        f"return_facts_reads_after_prepare={facts_reads} seconds={seconds:.1f} "
        f"alerted={sorted(a.entity_id for a in alerts)}"
    )
