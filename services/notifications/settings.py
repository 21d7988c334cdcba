"""Notifications' configuration (env prefix NOTIFICATIONS_; SMTP_* shared with the deployment)."""

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTIFICATIONS_", extra="ignore", populate_by_name=True
    )

    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/notifications"

    smtp_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("SMTP_HOST"))
    smtp_port: int = Field(default=1025, validation_alias=AliasChoices("SMTP_PORT"))
    smtp_starttls: bool = Field(default=False, validation_alias=AliasChoices("SMTP_STARTTLS"))
    smtp_username: str | None = Field(default=None, validation_alias=AliasChoices("SMTP_USERNAME"))
    smtp_password: str | None = Field(default=None, validation_alias=AliasChoices("SMTP_PASSWORD"))
    smtp_timeout_s: float = 10.0

    mail_from: str = "Seller Dispute Desk <disputes@disputedesk.dev>"
    # How often the dispatcher looks for messages that are due.
    dispatch_poll_interval_s: float = 0.05
