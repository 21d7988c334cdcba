"""Reconciliation's configuration (env prefix RECONCILIATION_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReconciliationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECONCILIATION_", extra="ignore", populate_by_name=True
    )

    service_name: str = "reconciliation"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/reconciliation"
