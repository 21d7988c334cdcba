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


def test_no_broker_creates_topics_on_first_use() -> None:
    """Topics come from `disputedesk topics apply` only: a mistyped topic must not appear."""
    config = BrokerConfig(host="127.0.0.1", port=9092, controller_port=9093, data_dir=Path("/s"))

    assert _properties(render_server_properties(config))["auto.create.topics.enable"] == "false"


def test_cluster_node_lists_every_voter_and_replicates_internal_topics() -> None:
    config = BrokerConfig(
        host="127.0.0.1",
        port=29762,
        controller_port=29763,
        data_dir=Path("/s/2"),
        node_id=2,
        voters=((1, 29761), (2, 29763), (3, 29765)),
        replication_factor=3,
        min_insync_replicas=2,
    )

    properties = _properties(render_server_properties(config))

    assert properties["node.id"] == "2"
    assert properties["controller.quorum.voters"] == (
        "1@127.0.0.1:29761,2@127.0.0.1:29763,3@127.0.0.1:29765"
    )
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:29762,CONTROLLER://127.0.0.1:29763"
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert properties[key] == "3", key
    for key in (
        "min.insync.replicas",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.min.isr",
    ):
        assert properties[key] == "2", key


@pytest.mark.parametrize(("brokers", "replication", "min_isr"), [(1, 1, 1), (2, 2, 1), (3, 3, 2)])
def test_topic_durability_follows_the_number_of_brokers(
    tmp_path: Path, brokers: int, replication: int, min_isr: int
) -> None:
    from disputedesk.stack import Stack

    stack = Stack.from_env(
        {
            "DISPUTEDESK_STATE_DIR": str(tmp_path),
            "DISPUTEDESK_KAFKA_PORT": "29760",
            "DISPUTEDESK_KAFKA_BROKERS": str(brokers),
        }
    )

    env = stack.env()
    assert len(stack.kafka_nodes) == brokers
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == ",".join(
        f"127.0.0.1:{29760 + 2 * i}" for i in range(brokers)
    )
    assert env["KAFKA_TOPIC_REPLICATION_FACTOR"] == str(replication)
    assert env["KAFKA_TOPIC_MIN_INSYNC_REPLICAS"] == str(min_isr)
    assert len({node.home for node in stack.kafka_nodes}) == brokers


def test_a_cluster_is_remembered_by_its_state_folder(tmp_path: Path) -> None:
    """`stack down` and `stack status` without --brokers find all three brokers again."""
    from disputedesk.stack import Stack

    first = Stack.from_env(
        {"DISPUTEDESK_STATE_DIR": str(tmp_path), "DISPUTEDESK_KAFKA_BROKERS": "3"}
    )
    first.record_layout()  # what `stack up` does before starting anything
    again = Stack.from_env({"DISPUTEDESK_STATE_DIR": str(tmp_path)})

    assert len(again.kafka_nodes) == 3
