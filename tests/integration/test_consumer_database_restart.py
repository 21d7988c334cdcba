"""A database restarting under a consumer delays its events; it never dead-letters them.

While PostgreSQL shuts down or starts up it answers "the database system is shutting down /
starting up" (SQLSTATE 57P03). The runner used to take that for a handler failure: a one-event
batch went straight to the DLQ and its inbox row said "dead_lettered", so the effect was lost.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from services.reconciliation.cases.handlers import handlers as case_handlers
from services.reconciliation.models import Inbox as ReconInbox
from shared.envelope import Envelope
from shared.events import ClaimType, EscalationChannel, SellerEscalationFiled
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import ConsumerRunner, EventHandlers, HandlerContext
from tests.conftest import Harness
from tests.integration.test_delivery_guarantees import _produce
from tests.support.db import scalar
from tests.support.factories import uid
from tests.support.waiting import eventually


def _database_starting_up() -> DBAPIError:
    """The error exactly as SQLAlchemy raises it for asyncpg's CannotConnectNowError."""
    driver_error = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    try:
        try:
            raise driver_error
        except asyncpg.exceptions.CannotConnectNowError as error:
            raise AsyncAdapt_asyncpg_dbapi.Error(str(error), error) from error
    except AsyncAdapt_asyncpg_dbapi.Error as adapted:
        return DBAPIError("SELECT 1", None, adapted, connection_invalidated=False)


async def test_an_event_met_by_a_restarting_database_is_handled_once_it_is_back(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon = pipeline["reconciliation"]
    runtime = recon.runtime
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"test.dbrestart.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, names=[topic, f"{topic}.dlq"])
    return_id = uid("RET-PGRESTART")
    escalation = SellerEscalationFiled(
        escalation_id=uid("ESC"),
        return_id=return_id,
        seller_id="S-PGRESTART",
        claim_type=ClaimType.DAMAGED,
        claimed_amount=10_000,
        description="database restart",
        channel=EscalationChannel.PORTAL,
        filed_at=datetime.now(UTC),
        filed_by="test",
    )
    envelope = Envelope(escalation, source="test")
    await _produce(bootstrap, topic, [envelope])

    attempts = 0
    handlers = EventHandlers()

    @handlers.on(SellerEscalationFiled)
    async def open_case(event: SellerEscalationFiled, ctx: HandlerContext) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise _database_starting_up()
        real_handler = case_handlers.handler_for(event.ce_type)
        assert real_handler is not None
        await real_handler(event, ctx)

    runner = ConsumerRunner(
        service="reconciliation-test",
        group_id=f"dbrestart-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        handlers=handlers,
        sessionmaker=runtime.sessionmaker,
        inbox_model=ReconInbox,
        producer=runtime.producer,
        bootstrap_servers=bootstrap,
        max_backoff_s=0.5,
    )
    task = asyncio.create_task(runner.run())
    try:
        await eventually(
            lambda: scalar(recon, "SELECT count(*) FROM cases WHERE return_id = :r", r=return_id),
            until=lambda n: n == 1,
            timeout=30,
            what="the case, once the database is back",
        )
    finally:
        runner.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert attempts == 2
    outcome = await scalar(recon, "SELECT outcome FROM inbox WHERE ce_id = :c", c=envelope.id)
    assert outcome == "handled"
