"""server.properties of the local KRaft broker, cluster ids, and Java version parsing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from disputedesk.stack.kafka import (
    BrokerConfig,
    java_major_version,
    new_cluster_id,
    render_server_properties,
)


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_single_node_is_broker_and_controller_on_loopback() -> None:
    config = BrokerConfig(host="127.0.0.1", port=29092, controller_port=29093, data_dir=Path("/s"))

    properties = _properties(render_server_properties(config))

    assert properties["process.roles"] == "broker,controller"
    assert properties["node.id"] == "1"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert properties["listeners"] == ("PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093")
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert properties["controller.listener.names"] == "CONTROLLER"
    assert properties["log.dirs"] == "/s"


def test_development_defaults_suit_one_broker_and_fast_tests() -> None:
    config = BrokerConfig(host="127.0.0.1", port=9092, controller_port=9093, data_dir=Path("/s"))

    properties = _properties(render_server_properties(config))

    assert properties["num.partitions"] == "6"
    assert properties["auto.create.topics.enable"] == "true"
    assert properties["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert properties[key] == "1", key
    assert int(properties["broker.session.timeout.ms"]) > int(
        properties["broker.heartbeat.interval.ms"]
    )


def test_cluster_id_is_sixteen_bytes_base64url_without_padding() -> None:
    cluster_id = new_cluster_id()

    assert len(cluster_id) == 22
    assert "=" not in cluster_id
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert new_cluster_id() != cluster_id


def test_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kafka-storage format` reads an id starting with `-` as an option (a fresh stack failed to
    start once in 64): such draws are redrawn."""
    import uuid

    draws = iter([uuid.UUID(bytes=b"\xfb" + bytes(15)), uuid.UUID(bytes=bytes(16))])
    monkeypatch.setattr("disputedesk.stack.kafka.uuid.uuid4", lambda: next(draws))

    assert new_cluster_id() == base64.urlsafe_b64encode(bytes(16)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ("no version here", None),
    ],
)
def test_java_major_version(output: str, major: int | None) -> None:
    assert java_major_version(output) == major
