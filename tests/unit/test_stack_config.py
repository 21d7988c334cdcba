"""Stack settings from the environment, the stack.env format, and which endpoints are external."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from disputedesk.stack.config import (
    StackSettings,
    find_repo_root,
    parse_env_file,
    render_env_file,
)
from disputedesk.stack.local_stack import Stack

ENDPOINT_VARIABLES = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "INTAKE_DATABASE_URL",
    "FRAUD_DATABASE_URL",
    "RECONCILIATION_DATABASE_URL",
    "NOTIFICATIONS_DATABASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
)


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No stack variables from the shell running the tests (nor from the test harness)."""
    import os

    for name in list(os.environ):
        if name.startswith("DISPUTEDESK_") or name in ENDPOINT_VARIABLES:
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_put_state_in_repo_and_use_documented_ports(
    bare_environment: pytest.MonkeyPatch,
) -> None:
    settings = StackSettings()

    assert settings.state_dir == find_repo_root() / ".state"
    assert (find_repo_root() / "pyproject.toml").is_file()
    assert (settings.kafka_port, settings.kafka_controller_port) == (9092, 9093)
    assert settings.pg_port == 15432
    assert settings.smtp_port == 1025
    assert not settings.kafka_is_external
    assert not settings.postgres_is_external
    assert not settings.mailsink_is_external


def test_environment_moves_state_and_ports(
    bare_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bare_environment.setenv("DISPUTEDESK_STATE_DIR", str(tmp_path / "state"))
    bare_environment.setenv("DISPUTEDESK_KAFKA_PORT", "29092")
    bare_environment.setenv("DISPUTEDESK_PG_PORT", "55433")
    bare_environment.setenv("DISPUTEDESK_SMTP_PORT", "2525")

    settings = StackSettings()

    assert settings.state_dir == tmp_path / "state"
    assert settings.kafka_controller_port == 29093
    assert settings.pg_port == 55433
    assert settings.smtp_port == 2525
    assert settings.env_file == tmp_path / "state" / "stack.env"
    assert settings.mail_dir == tmp_path / "state" / "mail"
    assert settings.keyring_file == tmp_path / "state" / "keyring.json"


def test_relative_state_dir_becomes_absolute(
    bare_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bare_environment.chdir(tmp_path)
    bare_environment.setenv("DISPUTEDESK_STATE_DIR", "scratch")

    assert StackSettings().state_dir == tmp_path / "scratch"


@pytest.mark.parametrize("port", ["0", "65535", "not-a-port"])
def test_kafka_port_must_leave_room_for_the_controller(
    bare_environment: pytest.MonkeyPatch, port: str
) -> None:
    bare_environment.setenv("DISPUTEDESK_KAFKA_PORT", port)

    with pytest.raises(ValidationError):
        StackSettings()


def test_postgres_is_external_only_when_all_four_urls_are_set() -> None:
    three = {
        "INTAKE_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/intake",
        "FRAUD_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/fraud",
        "RECONCILIATION_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/reconciliation",
    }
    assert not Stack.from_env(three).settings.postgres_is_external

    four = three | {"NOTIFICATIONS_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/notif"}
    assert Stack.from_env(four).settings.postgres_is_external


def test_blank_endpoint_variables_count_as_unset() -> None:
    settings = Stack.from_env({"KAFKA_BOOTSTRAP_SERVERS": " ", "SMTP_HOST": ""}).settings

    assert not settings.kafka_is_external
    assert not settings.mailsink_is_external


def test_local_environment_points_at_the_configured_ports(tmp_path: Path) -> None:
    stack = Stack.from_env(
        {
            "DISPUTEDESK_STATE_DIR": str(tmp_path),
            "DISPUTEDESK_KAFKA_PORT": "29092",
            "DISPUTEDESK_PG_PORT": "55433",
            "DISPUTEDESK_SMTP_PORT": "2525",
        }
    )

    assert stack.env() == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:29092",
        "KAFKA_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TOPIC_MIN_INSYNC_REPLICAS": "1",
        "INTAKE_DATABASE_URL": "postgresql+asyncpg://postgres:postgres@127.0.0.1:55433/intake",
        "FRAUD_DATABASE_URL": "postgresql+asyncpg://postgres:postgres@127.0.0.1:55433/fraud",
        "RECONCILIATION_DATABASE_URL": (
            "postgresql+asyncpg://postgres:postgres@127.0.0.1:55433/reconciliation"
        ),
        "NOTIFICATIONS_DATABASE_URL": (
            "postgresql+asyncpg://postgres:postgres@127.0.0.1:55433/notifications"
        ),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "2525",
        "MAIL_SINK_DIR": str(tmp_path / "mail"),
        # The sink relays sellers' replies to notifications' listener on the next port.
        "NOTIFICATIONS_INBOUND_SMTP_PORT": "2526",
        "NOTIFICATIONS_REPLY_DOMAIN": "replies.disputedesk.dev",
    }


def test_external_endpoints_replace_local_ones(tmp_path: Path) -> None:
    stack = Stack.from_env(
        {
            "DISPUTEDESK_STATE_DIR": str(tmp_path),
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
            "FRAUD_DATABASE_URL": "postgresql+asyncpg://u:p@db:6543/fraud",
            "SMTP_HOST": "mailhog",
            "SMTP_PORT": "1026",
        }
    )
    env = stack.env()

    assert stack.kafka.external
    assert not stack.postgres.external  # three databases still need the local server
    assert stack.mailsink.external
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka-1:9092,kafka-2:9092"
    assert env["FRAUD_DATABASE_URL"] == "postgresql+asyncpg://u:p@db:6543/fraud"
    assert env["INTAKE_DATABASE_URL"].endswith("@127.0.0.1:15432/intake")
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("mailhog", "1026")
    assert "MAIL_SINK_DIR" not in env


def test_env_file_round_trips_values_a_shell_would_split() -> None:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
        "INTAKE_DATABASE_URL": "postgresql+asyncpg://postgres:postgres@127.0.0.1:55432/intake",
        "MAIL_SINK_DIR": "/home/a developer/it's mail",
    }

    text = render_env_file(env)

    assert "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092\n" in text  # plain values stay unquoted
    assert parse_env_file(text) == env


def test_env_file_parser_reports_the_bad_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_env_file("# comment\nNOT A PAIR\n")


def test_local_and_external_smtp_ports_do_not_mix(tmp_path: Path) -> None:
    local = Stack.from_env({"DISPUTEDESK_SMTP_PORT": "2525"}).settings
    external = Stack.from_env({"SMTP_PORT": "1026"}).settings

    assert (local.smtp_port, local.external_smtp_port) == (2525, None)
    assert (external.smtp_port, external.external_smtp_port) == (1025, 1026)
