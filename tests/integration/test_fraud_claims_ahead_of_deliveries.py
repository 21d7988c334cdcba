"""Sellers' claims scored ahead of the deliveries before them, in fraud's own scoring on real
PostgreSQL: behind a backlog (a marketplace's history sent in minutes) the claims, taken with
their own returns' scans, reach fraud before most of the market's deliveries. Each seller's
claims are then read against a record that holds little but its claims, and no later event of
a seller not alerted read it again: an abuser at three times its category was never alerted,
however plain its record once every delivery was in. A delivery that reaches fraud after a
later counted claim of its seller now reads the seller as of that claim
(`service.read_at_latest_claim`) and raises the alert due there; the honest sellers of the same
market, with the same arrival order, are not alerted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.features import repository as features
from services.fraud.models import Alert
from services.fraud.scoring import service
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, SellerEscalationFiled
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, intact_journey, statements_of

START = datetime(2026, 6, 1, 9, tzinfo=UTC)
ABUSER = "S-AHEAD-ABUSER"
PEERS = [f"S-AHEAD-{s:02d}" for s in range(12)]


def journeys(seller: str, n: int, spacing: float, claimed: Iterable[int]) -> list[list[Any]]:
    """The seller's returns, one journey each, DAMAGED claims an hour after delivery on those
    `claimed`."""
    marked = set(claimed)
    return [
        intact_journey(
            f"R-{seller}-{i:03d}",
            seller,
            f"B-{seller}-{i:03d}",
            START + timedelta(days=i * spacing),
            "DAMAGED" if i in marked else None,
            "AG-1",
            hub="H-1",
            category="home",
            item_value=90_000,
            description="broken",
        )
        for i in range(n)
    ]


def has_claim(events: list[EventPayload]) -> bool:
    return any(isinstance(e, SellerEscalationFiled) for e in events)


async def score(sessions: async_sessionmaker[Any], events: list[EventPayload]) -> None:
    async with sessions() as session, session.begin():
        for e in events:
            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())


async def claim_abuse_alerts(sessions: async_sessionmaker[Any]) -> list[Alert]:
    async with sessions() as session:
        return list(
            (await session.scalars(select(Alert).where(Alert.pattern == "CLAIM_ABUSE"))).all()
        )


def market() -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
    """The abuser's journeys, and the market's split in those scored ahead and behind."""
    # Peers: one delivery in twenty claimed, over twenty days. The abuser: three in twenty
    # (three times its category), twelve claims over the same days.
    peers = {s: journeys(s, 40, 0.5, (7, 27)) for s in PEERS}
    abuser = journeys(ABUSER, 80, 0.25, (i for i in range(80) if i % 20 in (3, 9, 15)))
    # Behind the backlog each seller's deliveries are counted in part when its claims are
    # scored, by how far the partitions holding them lag: the peers from none to half of theirs,
    # the abuser two in three. The rest reach fraud after every claim.
    ahead: list[list[EventPayload]] = []
    behind: list[list[EventPayload]] = []
    for s, seller_journeys in enumerate(peers.values()):
        for i, j in enumerate(seller_journeys):
            (ahead if has_claim(j) or i < 20 * s / (len(PEERS) - 1) else behind).append(j)
    for i, j in enumerate(abuser):
        (ahead if has_claim(j) or i % 3 != 2 else behind).append(j)
    return abuser, ahead, behind


def assert_abuser_alone_alerted(alerts: list[Alert], abuser: list[list[Any]]) -> None:
    alerted = {a.entity_id for a in alerts}
    # Fail before: nothing read the abuser again once its deliveries were in.
    assert ABUSER in alerted, alerted
    assert not alerted & set(PEERS), alerted
    # Raised as of the abuser's latest claim, where the record it reads ends.
    last_claim = max(e.filed_at for j in abuser for e in j if isinstance(e, SellerEscalationFiled))
    (raised,) = [a for a in alerts if a.entity_id == ABUSER]
    assert raised.event_time == last_claim
    assert raised.evidence["numbers"]["count"] == 12


async def test_an_abuser_whose_deliveries_reach_fraud_after_its_claims_is_alerted(
    harness: Harness,
) -> None:
    abuser, ahead, behind = market()
    async with fresh_fraud_db(harness, "test_fraud_claims_ahead") as sessions:
        for j in ahead:
            await score(sessions, j)
        early = await claim_abuse_alerts(sessions)
        assert not early, [(a.entity_id, a.evidence.get("numbers")) for a in early]
        for j in behind:
            await score(sessions, j)
        alerts = await claim_abuse_alerts(sessions)
    assert_abuser_alone_alerted(alerts, abuser)


# The statement `latest_counted_claim` sends for a seller the batch did not read up front.
_ONE_SELLERS_LATEST_CLAIM = "ORDER BY return_facts.claimed_at DESC"


async def test_late_deliveries_in_consumer_batches_read_their_sellers_latest_claims_up_front(
    harness: Harness,
) -> None:
    """The late deliveries scored as the consumer scores them, in batches prepared up front
    (`prepare_batch` inside `deferred_counters`): each batch reads its sellers' latest counted
    claims in one statement with its facts, no delivery reads its seller's own, and the
    abuser is alerted as when each journey was a transaction of its own."""
    abuser, ahead, behind = market()
    late = [e for j in behind for e in j]
    size = 150
    async with fresh_fraud_db(harness, "test_fraud_claims_ahead_batched") as sessions:
        for j in ahead:
            await score(sessions, j)
        per_event: list[str] = []
        for start in range(0, len(late), size):
            batch = late[start : start + size]
            async with sessions() as session, session.begin():
                async with features.deferred_counters(session):
                    with statements_of(session) as statements:
                        await service.prepare_batch(session, batch)
                        prepared = len(statements)
                        for e in batch:
                            await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
                    per_event += [
                        s for s in statements[prepared:] if _ONE_SELLERS_LATEST_CLAIM in s
                    ]
        alerts = await claim_abuse_alerts(sessions)
    assert not per_event
    assert_abuser_alone_alerted(alerts, abuser)
