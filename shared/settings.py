"""Settings every service shares, read from the environment by pydantic-settings.

Each service subclasses `ServiceSettings` with its own env prefix (INTAKE_, FRAUD_, ...); the
connection settings that all services share (Kafka, keyring, log level) are read without a prefix.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.rate_limit import Limit


def _shared(name: str) -> AliasChoices:
    # Accept both the unprefixed shared name and nothing else: these are deployment-wide.
    return AliasChoices(name)


class CallerLimit(BaseModel):
    per_s: float = Field(gt=0)
    burst: float = Field(ge=1)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "disputedesk"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/postgres"
    database_pool_size: int = 10

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    # What `disputedesk topics apply` creates topics with (services only check that they
    # exist): 6 partitions give two cores' worth of consumers room to scale out; three copies
    # with two acknowledged writes on a cluster (`stack up --brokers 3` sets both), one on a
    # single broker.
    kafka_topic_partitions: int = Field(
        default=6, ge=1, validation_alias=_shared("KAFKA_TOPIC_PARTITIONS")
    )
    kafka_topic_replication_factor: int = Field(
        default=1, ge=1, validation_alias=_shared("KAFKA_TOPIC_REPLICATION_FACTOR")
    )
    kafka_topic_min_insync_replicas: int = Field(
        default=1, ge=1, validation_alias=_shared("KAFKA_TOPIC_MIN_INSYNC_REPLICAS")
    )
    keyring_file: Path | None = Field(
        default=None, validation_alias=_shared("DISPUTEDESK_KEYRING_FILE")
    )
    log_level: str = Field(default="INFO", validation_alias=_shared("LOG_LEVEL"))
    # Traces leave the process only when this is set, e.g. http://otel-collector:4318 (OTLP over
    # HTTP; docs/operations.md). Spans are made either way: logs and problems name trace ids.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=_shared("OTEL_EXPORTER_OTLP_ENDPOINT")
    )

    # Outbox relay: how many rows it claims at once, and how long an idle relay sleeps at most.
    # It wakes on the outbox trigger's NOTIFY (shared/wakeups.py) and when this process
    # commits an event, so the interval is only a safety net for a lost LISTEN connection.
    outbox_poll_interval_s: float = 5.0
    outbox_batch_size: int = 500
    # Put before every topic the relay publishes to. Empty in service; a benchmark or a replay
    # running beside a live stack sets its own, so its events never reach the live consumers.
    outbox_topic_prefix: str = ""
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

    # Rate limits (shared/rate_limit.py; docs/security.md), deployment-wide. Per calling client:
    # `per_s` sustained with bursts of `burst`; RATE_LIMIT_OVERRIDES gives named clients their
    # own, e.g. '{"marketplace": {"per_s": 400, "burst": 800}}'. Failed authentications per
    # client address and minute before the address is throttled.
    rate_limit_enabled: bool = Field(default=True, validation_alias=_shared("RATE_LIMIT_ENABLED"))
    rate_limit_per_s: float = Field(
        default=100.0, gt=0, validation_alias=_shared("RATE_LIMIT_PER_S")
    )
    rate_limit_burst: float = Field(
        default=200.0, ge=1, validation_alias=_shared("RATE_LIMIT_BURST")
    )
    rate_limit_overrides: dict[str, CallerLimit] = Field(
        default_factory=dict, validation_alias=_shared("RATE_LIMIT_OVERRIDES")
    )
    # A caller's tokens are leased for this long (shared/rate_limit.py, `spend_caller`): one
    # round trip takes this many seconds of the caller's rate into the process, so a busy key's
    # requests do not each pay the limiter's round trip; replicas together still never admit
    # more than the bucket. 0 sends the statement for every request.
    rate_limit_lease_s: float = Field(
        default=0.1, ge=0, le=1, validation_alias=_shared("RATE_LIMIT_LEASE_S")
    )
    auth_failures_per_minute: float = Field(
        default=100.0, ge=1, validation_alias=_shared("AUTH_FAILURE_LIMIT_PER_MIN")
    )
    rate_limit_retention_h: int = 24

    def caller_limit(self, client_id: str) -> Limit:
        own = self.rate_limit_overrides.get(client_id)
        if own is not None:
            return Limit(own.per_s, own.burst)
        return Limit(self.rate_limit_per_s, self.rate_limit_burst)

    def auth_failure_limit(self) -> Limit:
        return Limit(self.auth_failures_per_minute / 60.0, self.auth_failures_per_minute)
