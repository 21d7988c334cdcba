"""What the drill reads after the fact: each service's database (the drill may look; services
never read each other's), the intake topic, consumer-group lag and the mail sink."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine

SERVICES = ("intake", "fraud", "reconciliation", "notifications")


class ServiceDatabases:
    """One small engine per service database, for read-only queries."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        self.engines: dict[str, AsyncEngine] = {
            name: make_engine(urls[name], pool_size=1) for name in SERVICES
        }

    async def rows(self, service: str, sql: str, **params: Any) -> list[Any]:
        async with self.engines[service].connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def scalar(self, service: str, sql: str, **params: Any) -> Any:
        async with self.engines[service].connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def has_table(self, service: str, table: str) -> bool:
        return bool(await self.scalar(service, "SELECT to_regclass(:t) IS NOT NULL", t=table))

    async def columns(self, service: str, table: str) -> set[str]:
        found = await self.rows(
            service,
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t",
            t=table,
        )
        return {row[0] for row in found}

    async def dispose(self) -> None:
        for engine in self.engines.values():
            await engine.dispose()


async def unpublished_outbox_rows(dbs: ServiceDatabases) -> dict[str, int]:
    return {
        name: int(
            await dbs.scalar(name, "SELECT count(*) FROM outbox WHERE published_at IS NULL") or 0
        )
        for name in SERVICES
    }


async def consumer_lag(bootstrap_servers: str) -> dict[str, int]:
    """Messages each consumer group has not committed yet, over the partitions it committed on
    (a group that never committed anywhere shows up through the drill's progress counters)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
    await admin.start()
    await consumer.start()
    try:
        lag: dict[str, int] = {}
        for group in await admin.list_consumer_groups():
            group_id = group[0]
            committed = await admin.list_consumer_group_offsets(group_id)
            if not committed:
                continue
            ends = await consumer.end_offsets(list(committed))
            lag[group_id] = sum(
                max(ends[tp] - meta.offset, 0) for tp, meta in committed.items() if meta.offset >= 0
            )
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def tally_topic(bootstrap_servers: str, topic: str, *, key_prefix: str) -> Counter[str]:
    """How often each `ce_id` appears on `topic` among messages whose key starts with
    `key_prefix`: the whole topic is read from the beginning to its current end."""
    # Without a group the consumer is assigned every partition of the topic, and with no
    # committed offsets to resume from, "earliest" starts each at its beginning. (A seek after
    # the assignment races with the reset the assignment triggers.)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partitions of {topic} assigned within 30s")
            await asyncio.sleep(0.1)
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        prefix = key_prefix.encode()
        seen: Counter[str] = Counter()
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1_000)
            for tp, records in batches.items():
                for record in records:
                    if record.key is not None and record.key.startswith(prefix):
                        headers = dict(record.headers or ())
                        seen[headers.get("ce_id", b"").decode()] += 1
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return seen
    finally:
        await consumer.stop()


def mail_message_ids(mail_dir: Path, wanted: Iterable[str]) -> Counter[str]:
    """How many `.eml` files in the sink carry each wanted Message-ID."""
    wanted_set = set(wanted)
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    found: Counter[str] = Counter()
    if not mail_dir.is_dir():
        return found
    for path in mail_dir.glob("*.eml"):
        with path.open("rb") as handle:
            message_id = str(parser.parse(handle).get("Message-ID", "")).strip()
        if message_id in wanted_set:
            found[message_id] += 1
    return found


async def busiest_leader(
    bootstrap_servers: str, topics: list[str], *, attempts: int = 6, pause_s: float = 2.0
) -> tuple[int, int]:
    """The broker leading the partitions that hold the most messages of `topics`, and that
    many messages: the broker whose loss moves the most traffic to new leaders.

    Read again, a few times, when the cluster answers with stale metadata or not in time: on a
    busy machine, or just after an earlier fault moved leaders, a partition's leader can be in
    election for some seconds, and the drill must not fail for its own observation."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
    await admin.start()
    await consumer.start()
    try:
        for attempt in range(1, attempts + 1):
            try:
                return await _busiest_leader_once(admin, consumer, topics)
            except KafkaError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(pause_s)
        raise AssertionError("unreachable")  # the loop returns or raises
    finally:
        await consumer.stop()
        await admin.close()


async def _busiest_leader_once(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, topics: list[str]
) -> tuple[int, int]:
    leaders: dict[TopicPartition, int] = {}
    for description in await admin.describe_topics(topics):
        for partition in description["partitions"]:
            if partition["leader"] < 0:  # in election: no broker leads it this moment
                continue
            tp = TopicPartition(description["topic"], partition["partition"])
            leaders[tp] = partition["leader"]
    ends = await consumer.end_offsets(list(leaders))
    load: Counter[int] = Counter()
    for tp, leader in leaders.items():
        load[leader] += ends.get(tp, 0)
    if not load:
        raise RuntimeError(f"no partition leaders found for {topics}")
    node, messages = load.most_common(1)[0]
    return node, messages
