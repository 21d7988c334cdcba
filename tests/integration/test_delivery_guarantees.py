"""Nothing accepted is lost or duplicated: broker outage, a crash between the consumer's database
commit and its offset commit, and poison messages."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.reconciliation.cases.handlers import handlers as case_handlers
from services.reconciliation.models import Inbox as ReconInbox
from shared.envelope import Envelope
from shared.events import ClaimType, EscalationChannel, SellerEscalationFiled
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import ConsumerRunner
from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import return_body, uid
from tests.support.waiting import eventually


async def test_intake_keeps_accepting_while_kafka_is_down_and_loses_nothing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, fraud = pipeline["intake"], pipeline["fraud"]
    marker = uid("OUTAGE")
    stack: Any = harness.stack
    await asyncio.to_thread(stack.kafka.stop)
    try:
        for i in range(20):
            body = return_body(f"{marker}-{i:02d}")
            r = await intake.client.post(
                "/v1/returns", json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
            )
            assert r.status_code == 202, r.text
        pending = await scalar(
            intake,
            "SELECT count(*) FROM outbox WHERE key LIKE :m AND published_at IS NULL",
            m=f"{marker}%",
        )
        assert pending == 20
    finally:
        await asyncio.to_thread(stack.kafka.start)

    # Each accepted return is scored exactly once downstream, however often the relay retried.
    count = await eventually(
        lambda: scalar(
            fraud,
            "SELECT count(*) FROM assessments WHERE return_id LIKE :m AND revision = 0",
            m=f"{marker}%",
        ),
        until=lambda n: n >= 20,
        timeout=120,
        what="all 20 returns assessed after the broker came back",
    )
    await asyncio.sleep(2)  # a late duplicate would show up now
    assert count == 20
    assert (
        await scalar(
            fraud,
            "SELECT count(DISTINCT return_id) FROM assessments WHERE return_id LIKE :m "
            "AND revision = 0",
            m=f"{marker}%",
        )
        == 20
    )


def _escalation(return_id: str) -> SellerEscalationFiled:
    return SellerEscalationFiled(
        escalation_id=uid("ESC"),
        return_id=return_id,
        seller_id="S-CRASH",
        claim_type=ClaimType.DAMAGED,
        claimed_amount=10_000,
        description="crash drill",
        channel=EscalationChannel.PORTAL,
        filed_at=datetime.now(UTC),
        filed_by="test",
    )


async def _produce(bootstrap: str, topic: str, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(
                topic, env.value(), key=env.key.encode(), headers=env.headers()
            )
    finally:
        await producer.stop()


async def test_crash_between_db_commit_and_offset_commit_has_no_second_effect(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon = pipeline["reconciliation"]
    runtime = recon.runtime
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"test.crash.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, names=[topic, f"{topic}.dlq"])
    group = f"crash-{uuid.uuid4().hex[:8]}"
    rid = uid("RET-CRASH")
    await _produce(bootstrap, topic, [Envelope(_escalation(rid), source="test")])

    def runner() -> ConsumerRunner:
        return ConsumerRunner(
            service="reconciliation-test",
            group_id=group,
            topics=[topic],
            handlers=case_handlers,
            sessionmaker=runtime.sessionmaker,
            inbox_model=ReconInbox,
            producer=runtime.producer,
            bootstrap_servers=bootstrap,
        )

    # First life: the effect commits, then the process "dies" before the offset commit.
    first = runner()

    async def crash_before_offset_commit() -> None:
        if not first._pending:
            return
        first.stop()
        raise asyncio.CancelledError

    first.commit_pending = crash_before_offset_commit  # type: ignore[method-assign]
    task = asyncio.create_task(first.run())
    await eventually(
        lambda: scalar(recon, "SELECT count(*) FROM cases WHERE return_id = :r", r=rid),
        until=lambda n: n == 1,
        what="case from the first delivery",
    )
    await asyncio.gather(task, return_exceptions=True)

    # Second life: the same group gets the message again (its offset was never committed).
    second = runner()
    task = asyncio.create_task(second.run())
    try:
        from shared import metrics

        duplicates = metrics.CONSUMED.labels("reconciliation-test", topic, "duplicate")

        async def duplicates_seen() -> float:
            return duplicates._value.get()

        await eventually(
            duplicates_seen, until=lambda n: n >= 1, what="redelivery recognised as a duplicate"
        )
    finally:
        second.stop()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)
    assert await scalar(recon, "SELECT count(*) FROM cases WHERE return_id = :r", r=rid) == 1
    assert (
        await scalar(
            recon,
            "SELECT count(*) FROM outbox WHERE key = :r AND ce_type LIKE '%case_opened%'",
            r=rid,
        )
        == 1
    )


async def _dead_letters(bootstrap: str, topic: str, key: bytes, want: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found += [r for r in records if r.key == key]
    finally:
        await consumer.stop()
    return found


async def test_poison_message_goes_to_the_dlq_and_the_consumer_goes_on(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    fraud = pipeline["fraud"]
    poison_key = uid("POISON").encode()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        # Valid CloudEvents headers, but the payload breaks its contract.
        await producer.send_and_wait(
            "intake.returns.v1",
            b'{"type": "disputedesk.intake.return_initiated.v1", "x": 1}',
            key=poison_key,
            headers=[
                ("ce_id", str(uuid.uuid4()).encode()),
                ("ce_source", b"test"),
                ("ce_type", b"disputedesk.intake.return_initiated.v1"),
                ("ce_specversion", b"1.0"),
                ("ce_time", datetime.now(UTC).isoformat().encode()),
            ],
        )
    finally:
        await producer.stop()

    # A good event after the poison one is still handled.
    intake = pipeline["intake"]
    good = return_body()
    r = await intake.client.post(
        "/v1/returns", json=good, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202
    await eventually(
        lambda: scalar(
            fraud,
            "SELECT count(*) FROM assessments WHERE return_id = :r AND revision = 0",
            r=good["return_id"],
        ),
        until=lambda n: n == 1,
        what="the good event after the poison one",
    )

    # Both consumer groups of the topic (fraud, reconciliation) dead-letter it, with origin headers.
    letters = await _dead_letters(bootstrap, "intake.returns.v1.dlq", poison_key, want=2)
    groups = set()
    for rec in letters:
        headers = {k: v.decode() for k, v in rec.headers}
        assert headers["dlq_original_topic"] == "intake.returns.v1"
        assert headers["dlq_original_partition"].isdigit()
        assert headers["dlq_original_offset"].isdigit()
        assert "ValidationError" in headers["dlq_error"]
        groups.add(headers["dlq_consumer_group"])
    assert groups == {"fraud", "reconciliation"}


async def test_redelivered_escalation_event_is_merged_not_duplicated(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The same escalation event delivered twice on the real topic opens one case."""
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    recon = pipeline["reconciliation"]
    rid = uid("RET-REDELIVER")
    env = Envelope(_escalation(rid), source="test")
    await _produce(bootstrap, "intake.returns.v1", [env, env])
    await eventually(
        lambda: scalar(recon, "SELECT count(*) FROM inbox WHERE ce_id = :c", c=env.id),
        until=lambda n: n == 1,
        what="escalation handled",
    )
    await asyncio.sleep(1)
    assert await scalar(recon, "SELECT count(*) FROM cases WHERE return_id = :r", r=rid) == 1
