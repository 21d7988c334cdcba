"""Fraud's configuration (env prefix FRAUD_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class FraudSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FRAUD_", extra="ignore", populate_by_name=True)

    service_name: str = "fraud"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/fraud"
