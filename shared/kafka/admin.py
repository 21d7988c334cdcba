"""Topics as an explicit operations step: `apply_topics` creates every topic of the registry
and its dead-letter twin with the replication the settings ask for (idempotent: run it after
every deploy), and `missing_topics` is what a service checks at start-up instead of creating
anything itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from shared.events import TOPICS

MIN_INSYNC_REPLICAS = "min.insync.replicas"


class MissingTopicsError(RuntimeError):
    """Topics the service reads or writes do not exist; `disputedesk topics apply` makes them."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(
            f"Kafka topics missing: {', '.join(names)}. Create them with "
            "`disputedesk topics apply` (services do not create topics)."
        )


@dataclass
class TopicsApplied:
    """What one `apply_topics` did, for the command's table."""

    created: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Existing topics whose replication factor differs from the wanted one: Kafka changes it
    # only by reassigning partitions, which is an operator's decision, so it is reported.
    replication_differs: dict[str, int] = field(default_factory=dict)


def registry_topic_names() -> list[str]:
    return [name for topic in TOPICS.values() for name in (topic.name, topic.dlq)]


async def apply_topics(
    bootstrap_servers: str,
    *,
    partitions: int = 6,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
    names: list[str] | None = None,
) -> TopicsApplied:
    """Create the missing topics and set `min.insync.replicas` on all of them."""
    wanted = names or registry_topic_names()
    outcome = TopicsApplied()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="topics-apply")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        configs = {MIN_INSYNC_REPLICAS: str(min_insync_replicas)}
        new = [
            NewTopic(name, partitions, replication_factor, topic_configs=configs)
            for name in wanted
            if name not in existing
        ]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # another `apply` ran at the same time: same outcome
            outcome.created = [topic.name for topic in new]
        present = [name for name in wanted if name in existing]
        if present:
            await _align_existing(admin, present, replication_factor, configs, outcome)
    finally:
        await admin.close()
    return outcome


async def _align_existing(
    admin: AIOKafkaAdminClient,
    names: list[str],
    replication_factor: int,
    configs: dict[str, str],
    outcome: TopicsApplied,
) -> None:
    for description in await admin.describe_topics(names):
        replicas = {len(p["replicas"]) for p in description["partitions"]}
        if replicas and replicas != {replication_factor}:
            outcome.replication_differs[description["topic"]] = min(replicas)
    described = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    current: dict[str, str] = {}
    for response in described:
        for resource in response.resources:
            # (error_code, error_message, resource_type, resource_name, config_entries)
            for entry in resource[4]:
                if entry[0] == MIN_INSYNC_REPLICAS:
                    current[resource[3]] = entry[1]
    stale = [name for name in names if current.get(name) != configs[MIN_INSYNC_REPLICAS]]
    if stale:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, configs) for name in stale]
        )
    outcome.reconfigured = stale
    outcome.unchanged = [name for name in names if name not in stale]


async def missing_topics(bootstrap_servers: str, *, names: list[str] | None = None) -> list[str]:
    """The wanted topics (default: the whole registry) the cluster does not have."""
    wanted = names or registry_topic_names()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="topics-check")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [name for name in wanted if name not in existing]


async def ensure_topics(
    bootstrap_servers: str,
    *,
    partitions: int = 6,
    names: list[str] | None = None,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> None:
    """`apply_topics` for benchmarks and test set-up, which only need the topics to exist."""
    await apply_topics(
        bootstrap_servers,
        partitions=partitions,
        replication_factor=replication_factor,
        min_insync_replicas=min_insync_replicas,
        names=names,
    )
