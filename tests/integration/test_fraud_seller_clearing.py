"""A seller flagged on a few early claims is re-examined on its deliveries, through fraud's own
consumer on real Kafka and PostgreSQL: once its later returns go unclaimed at its category's
rate the claim-abuse alert is cleared and the claims it made HIGH are revised down, without
waiting for a next claim that a small seller may never file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from services.fraud.scoring.service import assess_event
from shared.envelope import Envelope
from shared.events import INTAKE_RETURNS, EventPayload, FraudBand
from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import uid
from tests.support.fraud import planted_alert, seller_journey
from tests.support.waiting import eventually

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)


def journey(seller: str, category: str, day: float, claim: str | None) -> list[EventPayload]:
    return seller_journey(seller, category, START + timedelta(days=day), claim)


async def test_a_flagged_seller_whose_deliveries_go_unclaimed_is_cleared_on_them(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    fraud = pipeline["fraud"]
    category, seller = uid("cat"), uid("S-SMALL")

    async def score(events: list[EventPayload]) -> list[Any]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                out.append(await assess_event(session, payload=e, subject_event_id=uuid.uuid4()))
        return out

    # The category: twenty sellers, each claiming on one return in twenty (5 %).
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += journey(
                f"{seller}-peer{s}", category, i * 0.5, "DAMAGED" if i % 20 == 7 else None
            )
        await score(events)
    alert_id = uuid.uuid4()
    async with fraud.runtime.sessionmaker() as session, session.begin():
        # Flagged on its first deliveries, all claimed (as the rate test did before wave 4).
        session.add(
            planted_alert(
                "CLAIM_ABUSE",
                "seller",
                seller,
                raised_at=START,
                alert_id=alert_id,
                evidence={"code": "SELLER_CLAIM_RATE_HIGH", "detail": "3/3", "numbers": {}},
            )
        )
    early = [
        (await score(journey(seller, category, 20 + i * 0.1, "DAMAGED")))[-1] for i in range(3)
    ]
    assert all(c.band is FraudBand.HIGH for c in early), "the alert's floor did not apply"

    async def status() -> str:
        return str(await scalar(fraud, "SELECT status FROM alerts WHERE alert_id = :a", a=alert_id))

    producer = AIOKafkaProducer(bootstrap_servers=harness.env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()

    async def send(events: list[EventPayload]) -> None:
        for e in events:
            env = Envelope(e, source="test")
            await producer.send(
                INTAKE_RETURNS.name, env.value(), key=env.key.encode(), headers=env.headers()
            )
        await producer.flush()

    async def delivered() -> int:
        found = await rows(
            fraud,
            "SELECT count(*) FROM return_facts WHERE seller_id = :s AND terminal IS NOT NULL",
            s=seller,
        )
        return int(found[0][0])

    try:
        # A few ordinary deliveries do not yet prove an ordinary seller: 3 claims in 8.
        batch: list[EventPayload] = []
        for i in range(5):
            batch += journey(seller, category, 21 + i * 0.3, None)
        await send(batch)
        await eventually(
            delivered, until=lambda n: n == 8, what="five deliveries scored", timeout=120
        )
        assert await status() == "open"
        # Then a hundred more, no claim among them: 3 in 108 is its category's rate. The
        # alert is cleared on a delivery, with no claim to prompt it.
        batch = []
        for i in range(100):
            batch += journey(seller, category, 23 + i * 0.3, None)
        await send(batch)
        assert (
            await eventually(
                status, until=lambda s: s == "closed", what="the alert cleared", timeout=180
            )
            == "closed"
        )
    finally:
        await producer.stop()
    cleared = await rows(fraud, "SELECT evidence FROM alerts WHERE alert_id = :a", a=alert_id)
    assert "cleared" in cleared[0][0]
    for claim in early:
        latest = await rows(
            fraud,
            "SELECT band, reasons FROM assessments WHERE escalation_id = :e "
            "ORDER BY revision DESC LIMIT 1",
            e=claim.escalation_id,
        )
        band, reasons = latest[0]
        assert band != FraudBand.HIGH.value
        assert reasons[0]["code"] == "ALERT_CLEARED"
        assert reasons[0]["numbers"]["alert_id"] == str(alert_id)
