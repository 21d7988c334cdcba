"""The reconciliation benchmark runs on whatever stack it is given, often one that live
consumers share: every topic it reads or publishes to must be its own run's."""

from __future__ import annotations

from bench.reconciliation import bench_topics, engine_settings
from services.reconciliation.settings import ReconciliationSettings
from shared.kafka.admin import registry_topic_names

LIVE = set(registry_topic_names())


def test_the_engine_neither_reads_nor_publishes_a_live_topic() -> None:
    settings = engine_settings("postgresql+asyncpg://u:p@127.0.0.1:1/bench", "abc123")
    defaults = ReconciliationSettings()
    read = {
        settings.returns_topic,
        settings.assessments_topic,
        settings.deliveries_topic,
        settings.alerts_topic,
    }
    assert not read & LIVE
    # The relay sends a row recorded for topic T to prefix + T: none of them is a live topic.
    assert settings.outbox_topic_prefix
    assert not {settings.outbox_topic_prefix + topic for topic in LIVE} & LIVE
    # Nor does it join a live consumer group (it would take partitions from the live service).
    groups = {settings.consumer_group, settings.alerts_consumer_group}
    assert not groups & {defaults.consumer_group, defaults.alerts_consumer_group}


def test_the_bench_creates_every_topic_the_engine_uses_and_no_live_one() -> None:
    settings = engine_settings("postgresql+asyncpg://u:p@127.0.0.1:1/bench", "abc123")
    created = set(bench_topics(settings))
    assert not created & LIVE
    assert {settings.outbox_topic_prefix + topic for topic in LIVE} <= created
    for topic in (settings.returns_topic, settings.assessments_topic, settings.alerts_topic):
        assert {topic, f"{topic}.dlq"} <= created
