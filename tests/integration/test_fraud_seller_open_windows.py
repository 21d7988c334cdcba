"""A seller's deliveries whose claim window is still open, read on real PostgreSQL through
fraud's scoring (FRAUD_SELLER_OPEN_WINDOWS): the same record, scored once with the setting off
and once on, each on a database of its own copied from the session's ordinary category
(`fraud_db_with_ordinary_category`: twenty sellers, one claim in twenty, every claim an hour
after its delivery). The seller's last deliveries, made minutes before its claim, are hardly
trials yet where the market's claims come an hour after delivery: read as they stand they no
longer hide the claims, and the seller is alerted; counted whole they do, and it is not."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.features.repository import deferred_counters
from services.fraud.scoring.base import default_config
from services.fraud.scoring.service import assess_event, prepare_batch
from shared.events import EventPayload, SellerEscalationFiled
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import (
    ORDINARY_CATEGORY,
    ORDINARY_START,
    claim_abuse_alerts,
    fraud_db_with_ordinary_category,
    seller_journey,
)


def record(seller: str) -> list[EventPayload]:
    """Twelve ordinary deliveries, five claims a few hours apart, then fourteen deliveries in
    the hour before a sixth claim is filed (its own delivery among the first of them)."""
    start = ORDINARY_START + timedelta(days=20)
    events: list[EventPayload] = []
    for i in range(12):
        events += seller_journey(seller, ORDINARY_CATEGORY, start + timedelta(days=i * 0.3), None)
    for i in range(5):
        events += seller_journey(
            seller, ORDINARY_CATEGORY, start + timedelta(days=4 + i * 0.2), "DAMAGED"
        )
    last = start + timedelta(days=6)
    *delivered, claim = seller_journey(seller, ORDINARY_CATEGORY, last, "DAMAGED")
    assert isinstance(claim, SellerEscalationFiled)
    events += delivered
    for i in range(14):
        events += seller_journey(
            seller, ORDINARY_CATEGORY, last + timedelta(minutes=2 + 4 * i), None
        )
    return [*events, claim]


async def scored_alerts(
    harness: Harness, seller: str, *, open_windows: bool, batch: int = 0
) -> list[Any]:
    """The seller's claim-abuse alerts after its record is scored event by event in one
    transaction, or (`batch`) as fraud's consumer scores it: batches of that many events,
    each read up front (`prepare_batch`) with its counters deferred, as `fraud-eval --direct`
    does."""
    config = replace(default_config(), seller_open_windows=open_windows)
    name = f"test_fraud_open_windows_{'on' if open_windows else 'off'}_{batch}"
    events = record(seller)
    async with fraud_db_with_ordinary_category(harness, name) as sessions:
        sessions_: async_sessionmaker[Any] = sessions
        for start in range(0, len(events), batch or len(events)):
            part = events[start : start + (batch or len(events))]
            async with sessions_() as session, session.begin():
                async with deferred_counters(session) if batch else nullcontext():
                    if batch:
                        await prepare_batch(session, part, config)
                    for e in part:
                        await assess_event(
                            session, payload=e, subject_event_id=uuid.uuid4(), config=config
                        )
        return await claim_abuse_alerts(sessions_, seller)


async def test_deliveries_of_the_last_hour_do_not_hide_a_sellers_claims(harness: Harness) -> None:
    seller = uid("S-OPEN")
    assert await scored_alerts(harness, seller, open_windows=False) == []
    found = await scored_alerts(harness, seller, open_windows=True)
    assert len(found) == 1
    evidence = found[0][0]
    assert evidence["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
    # The alert names the open deliveries it read: the fourteen of the last hour, and the
    # twelve unclaimed ones of the week before (past the market's delays: whole trials).
    assert evidence["numbers"]["open_deliveries"] == 26


async def test_a_batch_reads_its_claims_sellers_open_deliveries_up_front(harness: Harness) -> None:
    # Scored as the consumer scores it, in batches of 25 events (the last hour's deliveries
    # and the claim in the last batch, not yet written when the claim reads them): the same
    # alert on the same open deliveries, read from the batch's read of its sellers.
    seller = uid("S-OPEN-BATCH")
    found = await scored_alerts(harness, seller, open_windows=True, batch=25)
    assert len(found) == 1
    assert found[0][0]["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
    assert found[0][0]["numbers"]["open_deliveries"] == 26
