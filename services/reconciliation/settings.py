"""Reconciliation's configuration (env prefix RECONCILIATION_)."""

from pydantic_settings import SettingsConfigDict

from shared.events import FRAUD_ALERTS, FRAUD_ASSESSMENTS, INTAKE_RETURNS, NOTIFICATION_DELIVERIES
from shared.settings import ServiceSettings


class ReconciliationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECONCILIATION_", extra="ignore", populate_by_name=True
    )

    service_name: str = "reconciliation"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/reconciliation"
    # The consumer group and topics; overridable so a second instance (a benchmark, a replay)
    # can run beside the live one without sharing offsets.
    consumer_group: str = "reconciliation"
    returns_topic: str = INTAKE_RETURNS.name
    assessments_topic: str = FRAUD_ASSESSMENTS.name
    deliveries_topic: str = NOTIFICATION_DELIVERIES.name
    # Fraud alerts have a consumer group of their own: a burst of alerts never queues behind
    # (or in front of) the case events, and the two keep separate offsets.
    alerts_consumer_group: str = "reconciliation-alerts"
    alerts_topic: str = FRAUD_ALERTS.name
    # The longest the timer loop sleeps (it wakes at the next due time and on the timers
    # table's NOTIFY, so this is a safety net), and how many timers it takes per round.
    timer_poll_interval_s: float = 30.0
    timer_batch_size: int = 100
    # The what-if stored with a policy proposal judges the cases decided in the last this-many
    # days again (at most `policy_what_if_limit` of them), so the approver sees a recent picture.
    policy_what_if_days: int = 90
    policy_what_if_limit: int = 20_000
    # Debit notices to partners: the longest the delivery loop sleeps (it wakes at the next
    # attempt or window's end and on the notices table's NOTIFY, so this is a safety net),
    # per-request timeout, retries with exponential backoff (base, 2×base, … capped at max)
    # until the notice is dead-lettered after max attempts.
    notice_poll_interval_s: float = 30.0
    notice_timeout_s: float = 10.0
    notice_max_attempts: int = 8
    notice_backoff_base_s: float = 30.0
    notice_backoff_max_s: float = 3600.0
    # The longest the task loop sleeps between looks for overdue cross-team tasks to alert
    # management about (it wakes when the next open task falls due and on the tasks table's
    # NOTIFY, so this is a safety net).
    task_poll_interval_s: float = 30.0
