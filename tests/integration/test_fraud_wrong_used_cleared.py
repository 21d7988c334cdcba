"""A buyer alerted for wrong/used returns on a small sample is re-examined as its ordinary
returns accumulate, through fraud's own consumer on real Kafka and PostgreSQL: once its later
returns reach their sellers unclaimed, the alert is cleared on a delivery (no claim prompts it)
and a later claim on one of its returns is not HIGH for that alert. A buyer who keeps returning
wrong items stays alerted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from services.fraud.scoring.service import assess_event
from shared.envelope import Envelope
from shared.events import INTAKE_RETURNS, EventPayload, FraudAssessed, FraudBand
from tests.conftest import Harness
from tests.support.db import rows
from tests.support.factories import uid
from tests.support.fraud import intact_journey
from tests.support.waiting import eventually

PATTERN = "WRONG_USED_RETURNS"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=70)


def journey(buyer: str, category: str, day: float, claim: str | None) -> list[EventPayload]:
    """One return of `buyer`'s to a seller of its own, delivered intact, claimed or not."""
    return intact_journey(
        uid("R-WUC"),
        uid("S-WUC"),
        buyer,
        START + timedelta(days=day),
        claim,
        uid("AG-WUC"),
        hub=uid("H-WUC"),
        category=category,
        item_value=90_000,
        description="not the item sold",
    )


async def test_a_buyer_alerted_on_a_few_returns_is_cleared_as_its_ordinary_returns_accumulate(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    fraud = pipeline["fraud"]
    category = uid("cat-wuc")
    household, planted = uid("B-HOUSE"), uid("B-WRONG")

    async def score(events: list[EventPayload]) -> list[FraudAssessed]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                out.append(await assess_event(session, payload=e, subject_event_id=uuid.uuid4()))
        return out

    # Buyers at large: sixty, ten returns each, one in twenty-five claimed as a wrong item.
    peers: list[EventPayload] = []
    for b in range(60):
        for i in range(10):
            claimed = (b * 10 + i) % 25 == 3
            peers += journey(
                f"{household}-peer{b}", category, i * 0.5, "WRONG_ITEM" if claimed else None
            )
    await score(peers)

    # The household's first six returns, four claimed as wrong items by four sellers; the
    # planted buyer's six, five claimed. Both alerted on the small sample.
    for buyer, claimed in ((household, 4), (planted, 5)):
        for i in range(6):
            await score(
                journey(buyer, category, 10 + i * 0.5, "WRONG_ITEM" if i < claimed else None)
            )

    async def alert(buyer: str) -> tuple[str, Any] | None:
        found = await rows(
            fraud,
            "SELECT status, evidence FROM alerts WHERE pattern = :p AND entity_id = :b "
            "ORDER BY raised_at DESC LIMIT 1",
            p=PATTERN,
            b=buyer,
        )
        return (str(found[0][0]), found[0][1]) if found else None

    for buyer in (household, planted):
        raised = await alert(buyer)
        assert raised is not None and raised[0] == "open", f"{buyer} was not alerted"

    producer = AIOKafkaProducer(bootstrap_servers=harness.env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()

    async def send(events: list[EventPayload]) -> None:
        for e in events:
            env = Envelope(e, source="test")
            await producer.send(
                INTAKE_RETURNS.name, env.value(), key=env.key.encode(), headers=env.headers()
            )
        await producer.flush()

    async def delivered(buyer: str) -> int:
        found = await rows(
            fraud,
            "SELECT count(*) FROM return_facts WHERE buyer_id = :b AND terminal IS NOT NULL",
            b=buyer,
        )
        return int(found[0][0])

    try:
        # The planted buyer goes on: eight more returns, seven claimed as wrong or used.
        batch: list[EventPayload] = []
        for i in range(8):
            batch += journey(planted, category, 14 + i * 0.5, "USED_ITEM" if i else None)
        # The household's next fifty returns reach their sellers unclaimed.
        for i in range(50):
            batch += journey(household, category, 14 + i * 0.4, None)
        await send(batch)
        await eventually(
            lambda: delivered(household), until=lambda n: n == 56, what="household's deliveries",
            timeout=240,
        )  # fmt: skip
        await eventually(
            lambda: delivered(planted), until=lambda n: n == 14, what="planted deliveries",
            timeout=120,
        )  # fmt: skip
        cleared = await eventually(
            lambda: alert(household),
            until=lambda a: a is not None and a[0] == "closed",
            what="the household's alert cleared",
            timeout=120,
        )
    finally:
        await producer.stop()
    assert cleared is not None and "cleared" in cleared[1]
    assert cleared[1]["cleared"]["numbers"]["log_bayes_factor"] <= -2.302
    still = await alert(planted)
    assert still is not None and still[0] == "open", "the planted buyer's alert was cleared"

    # A later wrong-item claim on the household's return: its fifth named claim in 57 returns is
    # no alert's matter, and nothing lifts the claim to HIGH for the buyer.
    later = (await score(journey(household, category, 40, "WRONG_ITEM")))[-1]
    assert later.band is not FraudBand.HIGH
    assert not any(
        r.numbers.get("alert_id")
        or (r.numbers.get("entity") == f"buyer:{household}" and r.contribution >= 0.8)
        for r in later.reasons
    ), [r.code for r in later.reasons]
    reopened = await alert(household)
    assert reopened is not None and reopened[0] == "closed"
    # The planted buyer's next claim is HIGH on its open alert.
    planted_claim = (await score(journey(planted, category, 40, "WRONG_ITEM")))[-1]
    assert planted_claim.band is FraudBand.HIGH
