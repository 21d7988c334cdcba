"""Where the local stack keeps its state, which ports it listens on, and which endpoints the
environment supplies instead (all read from the environment by pydantic-settings)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# One database per service; the order is the order of the lines in stack.env.
SERVICE_DATABASES: tuple[str, ...] = ("intake", "fraud", "reconciliation", "notifications")


def find_repo_root(start: Path | None = None) -> Path:
    """The folder holding pyproject.toml above `start` (default: this package), else the cwd."""
    origin = (start or Path(__file__)).resolve()
    for folder in (origin, *origin.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return Path.cwd()


def database_url_variable(database: str) -> str:
    """`intake` -> `INTAKE_DATABASE_URL`, the name the service's settings read."""
    return f"{database.upper()}_DATABASE_URL"


def _unprefixed(name: str) -> AliasChoices:
    # The endpoint variables are the ones the services themselves read, so they carry no
    # DISPUTEDESK_ prefix.
    return AliasChoices(name)


class StackSettings(BaseSettings):
    """Settings of the local stack: state folder, local ports, and external endpoints.

    An external endpoint replaces the local component that would otherwise serve it:
    KAFKA_BOOTSTRAP_SERVERS replaces the broker, the four *_DATABASE_URL together replace
    PostgreSQL, SMTP_HOST replaces the mail sink.
    """

    model_config = SettingsConfigDict(
        env_prefix="DISPUTEDESK_", extra="ignore", populate_by_name=True
    )

    state_dir: Path = Field(default_factory=lambda: find_repo_root() / ".state")
    kafka_port: int = Field(default=9092, ge=1, le=65534)
    # Brokers of the local Kafka cluster (`stack up --brokers 3`); unset: as the state folder
    # was last brought up, else one.
    kafka_brokers: int | None = Field(default=None, ge=1, le=9)
    pg_port: int = Field(default=15432, ge=1, le=65535)
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    # The unprivileged account PostgreSQL runs as when the stack is started by root.
    pg_system_user: str = "disputedesk-pg"

    kafka_bootstrap_servers: str | None = Field(
        default=None, validation_alias=_unprefixed("KAFKA_BOOTSTRAP_SERVERS")
    )
    intake_database_url: str | None = Field(
        default=None, validation_alias=_unprefixed("INTAKE_DATABASE_URL")
    )
    fraud_database_url: str | None = Field(
        default=None, validation_alias=_unprefixed("FRAUD_DATABASE_URL")
    )
    reconciliation_database_url: str | None = Field(
        default=None, validation_alias=_unprefixed("RECONCILIATION_DATABASE_URL")
    )
    notifications_database_url: str | None = Field(
        default=None, validation_alias=_unprefixed("NOTIFICATIONS_DATABASE_URL")
    )
    smtp_host: str | None = Field(default=None, validation_alias=_unprefixed("SMTP_HOST"))
    # Only meaningful together with SMTP_HOST; the local sink listens on DISPUTEDESK_SMTP_PORT.
    external_smtp_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=_unprefixed("SMTP_PORT")
    )

    @field_validator(
        "kafka_bootstrap_servers",
        "intake_database_url",
        "fraud_database_url",
        "reconciliation_database_url",
        "notifications_database_url",
        "smtp_host",
        "external_smtp_port",
        mode="before",
    )
    @classmethod
    def _blank_means_unset(cls, value: object) -> object:
        # `export SMTP_HOST=` is how people switch an endpoint off again in a shell.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _absolute_state_dir(self) -> StackSettings:
        # Child processes run with other working directories; a relative path would move.
        self.state_dir = self.state_dir.expanduser().absolute()
        return self

    @property
    def kafka_controller_port(self) -> int:
        return self.kafka_port + 1

    @property
    def external_database_urls(self) -> dict[str, str]:
        """The *_DATABASE_URL variables the environment sets, keyed by variable name."""
        urls = {
            "intake": self.intake_database_url,
            "fraud": self.fraud_database_url,
            "reconciliation": self.reconciliation_database_url,
            "notifications": self.notifications_database_url,
        }
        return {database_url_variable(db): url for db, url in urls.items() if url is not None}

    @property
    def kafka_is_external(self) -> bool:
        return self.kafka_bootstrap_servers is not None

    @property
    def postgres_is_external(self) -> bool:
        return len(self.external_database_urls) == len(SERVICE_DATABASES)

    @property
    def mailsink_is_external(self) -> bool:
        return self.smtp_host is not None

    # Layout of the state folder.
    @property
    def env_file(self) -> Path:
        return self.state_dir / "stack.env"

    @property
    def keyring_file(self) -> Path:
        return self.state_dir / "keyring.json"

    @property
    def dev_credentials_file(self) -> Path:
        return self.state_dir / "dev-credentials.env"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def service_logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def kafka_brokers_file(self) -> Path:
        return self.state_dir / "kafka" / "brokers"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / ".stack.lock"


def render_env_file(env: Mapping[str, str]) -> str:
    """Render `KEY=value` lines that both a POSIX shell (`set -a; . stack.env`) and
    `parse_env_file` read back to the same values."""
    lines = [
        "# Connection settings of the local stack, written by `disputedesk stack up`.",
        "# Load into a shell with: set -a; . ./stack.env; set +a",
    ]
    lines += [f"{key}={shlex.quote(value)}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


def parse_env_file(text: str) -> dict[str, str]:
    """Read `KEY=value` lines as written by `render_env_file` (comments and blanks skipped)."""
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line.removeprefix("export "))
        if len(words) != 1 or "=" not in words[0]:
            raise ValueError(f"line {number} is not KEY=value: {raw!r}")
        key, _, value = words[0].partition("=")
        env[key] = value
    return env


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """Replace `path` atomically, so a service starting meanwhile reads old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(render_env_file(env), encoding="utf-8")
    partial.replace(path)
