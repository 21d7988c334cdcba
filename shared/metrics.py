"""Prometheus metrics every service exports: RED per route, consumers, outbox, dead letters.

Labels never carry identifiers of people (seller emails, phones) or unbounded ids: routes are the
path templates, not the concrete paths.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled.", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

CONSUMED = Counter(
    "disputedesk_consumer_messages_total",
    "Messages taken from Kafka, by what became of them.",
    ["service", "topic", "outcome"],  # outcome: handled | duplicate | ignored | dead_lettered
)
CONSUMER_LAG = Gauge(
    "disputedesk_consumer_lag",
    "Messages behind the partition's high-water mark.",
    ["service", "topic", "partition", "group"],
)
CONSUMER_RETRIES = Counter(
    "disputedesk_consumer_retries_total",
    "Transient failures retried with backoff.",
    ["service", "topic"],
)
DLQ_MESSAGES = Counter(
    "disputedesk_dlq_messages_total", "Messages sent to a dead-letter topic.", ["service", "topic"]
)
HANDLE_LATENCY = Histogram(
    "disputedesk_consumer_batch_seconds",
    "Time to handle one polled batch, database commit included.",
    ["service", "topic"],
)

OUTBOX_BACKLOG = Gauge("disputedesk_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "disputedesk_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row.",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "disputedesk_outbox_published_total", "Outbox rows published to Kafka.", ["service", "topic"]
)
RETENTION_DELETED = Counter(
    "disputedesk_retention_deleted_rows_total",
    "Expired rows deleted (outbox, inbox, idempotency keys; intake's revoked partner secrets).",
    ["service", "table"],
)
# Events written before addresses were sealed carry them in clear (docs/secrets-and-pii.md).
LEGACY_ADDRESSES = Counter(
    "disputedesk_legacy_plaintext_addresses_total",
    "Plaintext seller addresses met on events written before addresses were sealed, by what "
    "was done with them (sealed, dropped, used).",
    ["service", "action"],
)
SEALED_CONTACT_FAILURES = Counter(
    "disputedesk_sealed_contact_failures_total",
    "Sealed seller contacts that could not be opened (a key pair missing from the list).",
    ["service"],
)
OUTBOX_FAILURES = Counter(
    "disputedesk_outbox_publish_failures_total",
    "Relay rounds that failed to publish and will be retried.",
    ["service"],
)

RATE_LIMITED = Counter(
    "disputedesk_rate_limited_total",
    "Requests answered 429: kind is caller (a key over its limit), auth_failures (an address "
    "over its failed-authentication limit) or partner (a partner over its webhook limit).",
    ["service", "kind"],
)
RATE_LIMIT_ERRORS = Counter(
    "disputedesk_rate_limit_errors_total",
    "Requests let through because the rate limiter's database did not answer.",
    ["service"],
)
