"""Two replicas handle one return's events from two topics at once: one opens the case from the
escalation while the other stores the fraud assessment. Each must see the other's work, or the
case waits (FRAUD_WAIT) for an assessment it already has; the fleet drill met exactly that
after a rolling restart. A per-return lock taken before anything is read serialises the two."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from services.reconciliation.cases.handlers import build_handlers
from shared.clock import ManualClock
from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.kafka.consumer import EventHandlers, HandlerContext
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import T0, _migrate, assessed, escalation, return_initiated, scan

NOW = T0 + timedelta(days=3, minutes=5)


def _env(payload: Any) -> Envelope:
    return Envelope(payload, source="test")


async def test_case_and_its_assessment_handled_at_once_by_two_replicas(harness: Harness) -> None:
    url = await _migrate(harness, "test_recon_replica_race")
    clock = ManualClock(NOW)
    handlers: EventHandlers = build_handlers(lambda: clock)
    assert handlers.batch_handler is not None
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    rid = uid("RET-RACE")
    esc = _env(escalation(rid, claim="DAMAGED"))
    facts = [
        _env(return_initiated(rid)),
        _env(scan(rid, "PICKED_UP", T0, weight=1000)),
        _env(scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000)),
    ]
    try:
        async with sessionmaker() as session, session.begin():
            await handlers.batch_handler([HandlerContext(session, e, "test") for e in facts])

        opened = asyncio.Event()

        async def replica_opening_the_case() -> None:
            async with sessionmaker() as session, session.begin():
                await handlers.batch_handler([HandlerContext(session, esc, "returns")])
                opened.set()
                await asyncio.sleep(0.5)  # still uncommitted while the other replica runs

        async def replica_storing_the_assessment() -> None:
            await opened.wait()
            async with sessionmaker() as session, session.begin():
                await handlers.batch_handler(
                    [HandlerContext(session, _env(assessed(esc)), "assessments")]
                )

        await asyncio.wait_for(
            asyncio.gather(replica_opening_the_case(), replica_storing_the_assessment()), 20
        )
        async with sessionmaker() as session:
            state, timer = (
                await session.execute(
                    text("SELECT state, timer_kind FROM cases WHERE return_id = :r"), {"r": rid}
                )
            ).one()
    finally:
        await engine.dispose()
    assert timer != "FRAUD_WAIT", (state, timer)
    assert state != "OPEN"
