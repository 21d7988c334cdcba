"""An entity's standing (stored risk, watches, open alerts) read once per scoring transaction
and kept current by the transaction's own writes (real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.fraud.risk import repository as risk_repo
from services.fraud.risk.repository import OpenAlert, StoredRisk, Watch
from services.fraud.scoring.service import assess_event, prepare_batch
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, intact_journey, statements_of

AT = datetime(2026, 5, 10, 12, tzinfo=UTC)
HUB, SELLER = ("hub", "H-1"), ("seller", "S-1")


def _risk(key: tuple[str, str], score: float, band: str) -> dict[str, Any]:
    return {"entity_type": key[0], "entity_id": key[1], "score": score, "band": band,
            "reasons": [], "as_of": AT}


async def test_standing_is_read_once_and_follows_the_sessions_own_writes(
    harness: Harness,
) -> None:
    async with fresh_fraud_db(harness, "test_fraud_standing") as sessions:
        async with sessions() as session, session.begin():
            await risk_repo.upsert_risks(session, [_risk(HUB, 0.6, "MEDIUM")])
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                first = await risk_repo.standing(session, [HUB, SELLER])
                reads = len(statements)
                await risk_repo.upsert_risks(session, [_risk(HUB, 0.85, "HIGH"),
                                                       _risk(SELLER, 0.3, "LOW")])
                alert = OpenAlert(uuid.uuid4(), "PILFERAGE_HUB", *HUB, "spike", {}, AT)
                risk_repo.remember_alert(session, alert)
                risk_repo.remember_watch(session, Watch(*HUB, "automatic", "alert"))
                writes = len(statements)
                later = await risk_repo.standing(session, [HUB, SELLER])
                assert len(statements) == writes  # known entities are not read again
                await risk_repo.standing(session, [HUB, ("agent", "AG-1")])
                assert len(statements) == writes + 1  # a new one is
    assert reads == 1
    assert first.risks == {HUB: StoredRisk(0.6, "MEDIUM")} and not first.alerts
    assert later.risks == {HUB: StoredRisk(0.85, "HIGH"), SELLER: StoredRisk(0.3, "LOW")}
    assert later.alerts == [alert]
    assert later.watches == [Watch(*HUB, "automatic", "alert")]



async def test_a_prepared_batch_reads_facts_and_standing_once_for_all_its_events(
    harness: Harness,
) -> None:
    journey = intact_journey("R-PREP", "S-PREP", "B-PREP", AT, None, "AG-PREP", hub="H-PREP",
                             category="fashion", item_value=150_000, description="")
    initiated, picked_up, delivered = journey
    async with fresh_fraud_db(harness, "test_fraud_prepared_batch") as sessions:
        async with sessions() as session, session.begin():
            await assess_event(session, payload=initiated, subject_event_id=uuid.uuid4())
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                await prepare_batch(session, [picked_up, delivered])
                prepared = len(statements)
                for e in (picked_up, delivered):
                    await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
            assessed = statements[prepared:]
    assert prepared == 2  # the facts, then the standing of seller, buyer, partner, hub, agent
    assert not [s for s in assessed if "FROM return_facts" in s or "AS kind" in s]
