"""deploy/docker-compose.yml cannot be started on a machine without a Docker engine, so these
checks read it: every reference in it resolves, every variable it gives a disputedesk process is
one that process reads (pydantic-settings ignores unknown names, so a misspelt one would be
dropped without a word), and the values parse into what the cluster needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from disputedesk import credentials
from services.console.settings import ConsoleSettings
from services.fraud.settings import FraudSettings
from services.intake.settings import IntakeSettings
from services.notifications.settings import NotificationsSettings
from services.reconciliation.settings import ReconciliationSettings
from shared import keys
from shared.http_protocol import HttpLimits
from shared.settings import ServiceSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "fraud": FraudSettings,
    "reconciliation": ReconciliationSettings,
    "notifications": NotificationsSettings,
}
# Read by shared/keys.py, directly or from a mounted file.
KEY_VARIABLES = {
    name + suffix
    for name in (keys.SECRETS_KEYS, keys.PII_PUBLIC_KEY, keys.PII_PRIVATE_KEYS)
    for suffix in ("", "_FILE")
}
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def resolved(value: object) -> str:
    """A value as compose gives it when the operator sets none of the variables it names."""
    return _INTERPOLATION.sub(lambda m: m.group("default") or "", str(value))


def variables_read(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add((prefix + field_name).upper())
    return names


def disputedesk_processes() -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in SERVICES.items()
        if str(spec.get("image", "")).startswith("disputedesk:")
    }


def test_every_reference_resolves() -> None:
    volumes = set(COMPOSE.get("volumes") or {})
    secrets = set(COMPOSE.get("secrets") or {})
    for name, spec in SERVICES.items():
        for needed in spec.get("depends_on") or {}:
            assert needed in SERVICES, f"{name} depends on unknown service {needed}"
        for secret in spec.get("secrets") or []:
            source = secret["source"] if isinstance(secret, dict) else secret
            assert source in secrets, f"{name} mounts undeclared secret {source}"
        for mount in spec.get("volumes") or []:
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in volumes, f"{name} mounts undeclared volume {source}"
        build = spec.get("build")
        if build:
            context = DEPLOY / build["context"]
            assert (context / build["dockerfile"]).is_file(), f"{name}: no {build['dockerfile']}"


def test_secret_files_are_the_ones_dev_credentials_writes() -> None:
    declared = {Path(spec["file"]).name for spec in COMPOSE["secrets"].values()}
    written = {credentials.CREDENTIALS_FILE, credentials.KEYRING_FILE}
    written |= set(credentials.KEY_FILES.values())
    assert declared == written


@pytest.mark.parametrize("name", sorted(disputedesk_processes()))
def test_every_variable_given_to_a_process_is_read_by_it(name: str) -> None:
    spec = SERVICES[name]
    given = {key.upper() for key in spec.get("environment") or {}}
    if name in SETTINGS:
        readers: list[type[BaseSettings]] = [SETTINGS[name], HttpLimits]
    elif name == "console":
        readers = [ConsoleSettings, HttpLimits]
    else:  # one-off jobs (migrate, topics) act for every service
        readers = [*SETTINGS.values()]
    read = set(KEY_VARIABLES).union(*(variables_read(reader) for reader in readers))
    assert given - read == set(), f"{name} is given variables nothing reads"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_service_settings_parse_to_the_cluster(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in (SERVICES[name].get("environment") or {}).items():
        monkeypatch.setenv(key, resolved(value))
    settings = SETTINGS[name]()
    brokers = [node for node in SERVICES if node.startswith("kafka-")]
    assert settings.kafka_bootstrap_servers.split(",") == [f"{node}:9092" for node in brokers]
    assert settings.kafka_topic_replication_factor == len(brokers)
    assert 1 < settings.kafka_topic_min_insync_replicas < settings.kafka_topic_replication_factor
    assert settings.database_url.endswith(f"@postgres:5432/{name}")
    init = (DEPLOY / "postgres" / "init-databases.sql").read_text()
    assert f"CREATE DATABASE {name};" in init


def test_the_kafka_nodes_agree_on_the_quorum() -> None:
    nodes = {name: spec for name, spec in SERVICES.items() if name.startswith("kafka-")}
    voters = {
        resolved(spec["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"]) for spec in nodes.values()
    }
    assert len(voters) == 1, "every node must list the same controller quorum"
    expected = ",".join(
        f"{spec['environment']['KAFKA_NODE_ID']}@{name}:9093" for name, spec in nodes.items()
    )
    assert voters == {expected}
    ids = [spec["environment"]["KAFKA_NODE_ID"] for spec in nodes.values()]
    assert len(set(ids)) == len(ids)
    for name, spec in nodes.items():
        assert spec["environment"]["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert spec["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
