"""Topics are an explicit ops step: `apply_topics` creates them idempotently with the settings'
durability, and a service that finds a topic missing names it instead of creating it."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.app import ConsumerSpec, create_service_app
from shared.kafka.admin import apply_topics, missing_topics
from tests.conftest import Harness
from tests.support.waiting import eventually


async def _min_isr(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    entries = {entry[0]: entry[1] for entry in response.resources[0][4]}
    return entries["min.insync.replicas"]


@pytest.mark.asyncio
async def test_apply_creates_missing_topics_once_and_checks_find_none(harness: Harness) -> None:
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    names = [f"test.apply.{uuid.uuid4().hex[:8]}", f"test.apply.{uuid.uuid4().hex[:8]}"]

    assert await missing_topics(bootstrap, names=names) == names

    first = await apply_topics(bootstrap, partitions=2, names=names)
    second = await apply_topics(bootstrap, partitions=2, names=names)

    assert sorted(first.created) == sorted(names)
    assert second.created == []
    assert sorted(second.unchanged) == sorted(names)
    assert second.replication_differs == {}
    assert await missing_topics(bootstrap, names=names) == []
    assert await _min_isr(bootstrap, names[0]) == "1"


@pytest.mark.asyncio
async def test_the_registry_topics_exist_after_the_harness_applied_them(harness: Harness) -> None:
    assert await missing_topics(harness.env["KAFKA_BOOTSTRAP_SERVERS"]) == []


@pytest.mark.asyncio
async def test_a_service_names_missing_topics_and_creates_none(harness: Harness) -> None:
    """Its consumer's topic is absent: /readyz says which, and the topic stays absent."""
    import httpx

    from services.reconciliation.models import Inbox, Outbox
    from services.reconciliation.settings import ReconciliationSettings

    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    absent = f"test.absent.{uuid.uuid4().hex[:8]}"
    app = create_service_app(
        name="topics-check",
        title="topics check",
        description="",
        settings=ReconciliationSettings(rate_limit_enabled=False),
        outbox_model=Outbox,
        inbox_model=Inbox,
        consumers=[ConsumerSpec(group_id=f"g-{absent}", topics=[absent], handlers={})],
    )
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

        async def names_the_topic() -> bool:
            body = (await client.get("/readyz")).json()
            return absent in body["checks"]["kafka"] and f"{absent}.dlq" in body["checks"]["kafka"]

        await eventually(names_the_topic, timeout=15)
        assert not app.state.runtime.producer_ready.is_set()
        await client.aclose()
    assert await missing_topics(bootstrap, names=[absent]) == [absent]
