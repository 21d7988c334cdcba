"""Topic creation: every topic of the registry and its dead-letter twin."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events import TOPICS


async def ensure_topics(
    bootstrap_servers: str, *, partitions: int = 6, names: list[str] | None = None
) -> None:
    wanted = names or [n for t in TOPICS.values() for n in (t.name, t.dlq)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, partitions, 1) for n in wanted if n not in existing]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
