"""A seller's bad weeks are a spell, not abuse, on real PostgreSQL through fraud's scoring: two
sellers with the same record until one of them is alerted on a run of claims; the one whose
claims then fall back to its category's rate is cleared once its recent weeks prove it
ordinary (its whole record still leans towards abuse) and the claims the alert made HIGH are
revised down; the one that keeps claiming at its rate stays flagged. On a database of the test's own
(`fresh_fraud_db`): the category's peers are every seller the detector compares with, and no
outbox is relayed to the other services while the record is built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import EventPayload, FraudBand
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import claims_scored, fresh_fraud_db, rows_of, seller_journey

DB = "test_fraud_seller_spell"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=62)


@pytest.fixture
async def sessions(harness: Harness) -> AsyncIterator[async_sessionmaker[Any]]:
    async with fresh_fraud_db(harness, DB) as sessions:
        yield sessions


def journeys(seller: str, category: str, days: list[float], claimed: set[int]) -> list[Any]:
    """One delivery a day in `days`, the ones whose index is in `claimed` claimed DAMAGED."""
    out: list[EventPayload] = []
    for i, day in enumerate(days):
        out += seller_journey(
            seller, category, START + timedelta(days=day), "DAMAGED" if i in claimed else None
        )
    return out


def spaced(first: float, count: int, per_day: float) -> list[float]:
    return [first + i / per_day for i in range(count)]


# Two records of 140 deliveries each, built claim by claim through the scorer: more than the
# default five minutes on a loaded two-core machine.
@pytest.mark.timeout(900)
async def test_a_seller_whose_spell_is_over_is_cleared_and_an_abuser_is_not(
    sessions: async_sessionmaker[Any],
) -> None:
    category = uid("cat")

    async def score(events: list[EventPayload]) -> list[Any]:
        return await claims_scored(sessions, events)

    # The category: eight sellers, each claiming on one return in twenty (5 %).
    for s in range(8):
        await score(journeys(f"{category}-peer{s}", category, spaced(0, 40, 2), {7, 27}))
    spell, abuser = uid("S-SPELL"), uid("S-ABUSER")
    for seller in (spell, abuser):
        # Twenty ordinary days (2 claims in 40), then a week of 9 claims in 20: alerted.
        await score(journeys(seller, category, spaced(0, 40, 2), {10, 30}))
        await score(journeys(seller, category, spaced(20, 20, 3), {0, 2, 4, 6, 8, 10, 12, 14, 16}))

    async def alert(seller: str) -> tuple[str, Any]:
        found = await rows_of(
            sessions,
            "SELECT status, evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' "
            "AND entity_id = :s ORDER BY raised_at",
            s=seller,
        )
        assert len(found) == 1, found
        return str(found[0][0]), found[0][1]

    assert (await alert(spell))[0] == "open"
    assert (await alert(abuser))[0] == "open"
    # Thirty-two more days, 2.5 deliveries a day. The spell is over: two claims early on,
    # then none (13 claims in 140 deliveries in all, a record that still leans towards
    # abuse). The abuser keeps claiming one in four.
    # Each delivery in a transaction of its own, as fraud's consumer commits its chunks: the
    # post-spell claims are assessed before the clearing that revises them.
    after = spaced(27, 80, 2.5)
    abuser_claims = []
    for i, day in enumerate(after):
        await score(journeys(spell, category, [day], {0} if i in (5, 20) else set()))
        abuser_claims += await score(
            journeys(abuser, category, [day], {0} if i % 4 == 0 else set())
        )

    status, evidence = await alert(spell)
    assert status == "closed"
    cleared = evidence["cleared"]["numbers"]
    # Cleared on its recent weeks' evidence, not its whole record's.
    assert cleared["trials"] < 60 and cleared["log_bayes_factor"] <= -2.3
    assert (await alert(abuser))[0] == "open"
    assert abuser_claims[-1].band is FraudBand.HIGH
    # What the alert made HIGH went with it: the spell's claims are no longer HIGH.
    latest = await rows_of(
        sessions,
        "SELECT DISTINCT ON (a.escalation_id) a.band FROM assessments a "
        "JOIN return_facts f USING (return_id) "
        "WHERE f.seller_id = :s AND a.escalation_id IS NOT NULL "
        "ORDER BY a.escalation_id, a.revision DESC",
        s=spell,
    )
    assert len(latest) == 13
    assert FraudBand.HIGH.value not in {band for (band,) in latest}
