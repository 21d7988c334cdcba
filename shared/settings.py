"""Settings every service shares, read from the environment by pydantic-settings.

Each service subclasses `ServiceSettings` with its own env prefix (INTAKE_, FRAUD_, ...); the
connection settings that all services share (Kafka, keyring, log level) are read without a prefix.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _shared(name: str) -> AliasChoices:
    # Accept both the unprefixed shared name and nothing else: these are deployment-wide.
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "disputedesk"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/postgres"
    database_pool_size: int = 10

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    # Partitions for topics this service creates when they are missing (a broker default
    # otherwise); 6 gives two cores' worth of consumers room to scale out.
    kafka_topic_partitions: int = Field(
        default=6, validation_alias=_shared("KAFKA_TOPIC_PARTITIONS")
    )
    keyring_file: Path | None = Field(
        default=None, validation_alias=_shared("DISPUTEDESK_KEYRING_FILE")
    )
    log_level: str = Field(default="INFO", validation_alias=_shared("LOG_LEVEL"))

    # Outbox relay: how often an idle relay looks for new rows, and how many it claims at once.
    outbox_poll_interval_s: float = 0.05
    outbox_batch_size: int = 500
    # Consumers: how many messages one poll may hand to a single database transaction.
    consumer_batch_size: int = 500
    consumer_max_retry_backoff_s: float = 30.0
    # Retention (see shared/retention.py). Inbox ids must outlive the topics' retention (Kafka's
    # default is 7 days), or a consumer reset to the earliest offset would apply events again.
    outbox_retention_h: int = 7 * 24
    inbox_retention_h: int = 30 * 24
    idempotency_retention_h: int = 7 * 24
    retention_interval_s: float = 600.0
    # Largest request body any endpoint accepts.
    max_body_bytes: int = 1024 * 1024
