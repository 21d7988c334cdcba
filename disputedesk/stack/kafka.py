"""The local Kafka brokers: Kafka 4.1 in KRaft combined mode (each process is broker and
controller), one or a cluster of several, their jars fetched by Maven from deploy/kafka/pom.xml
into the state folder."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code

from disputedesk.stack.component import (
    LocalComponent,
    StackError,
    StepListener,
    notify_step,
    run_blocking,
)
from disputedesk.stack.config import StackSettings, find_repo_root
from disputedesk.stack.ports import first_bootstrap_address, is_free, is_listening
from disputedesk.stack.process import (
    find_process,
    log_tail,
    spawn_detached,
    write_pid_file,
)

# Created (or found) to prove the broker accepts metadata changes, not just TCP connections.
READINESS_TOPIC = "__disputedesk_ready"
_TOPIC_ALREADY_EXISTS = 36
_MIN_JAVA_MAJOR = 17
_JARS_MARKER = ".fetched-from-pom"
_HEAP_OPTIONS = ("-Xms256m", "-Xmx1g")
# Three brokers on a developer's machine: each gets less, the cluster still fits in 2 GB.
_CLUSTER_HEAP_OPTIONS = ("-Xms128m", "-Xmx512m")
# The client compiler (C1) only. A local broker lives for a test run, a benchmark or a working
# day and carries a few hundred requests a second; the optimising compiler's warm-up was about
# half of all the CPU a freshly started broker used through the end-to-end benchmark's ×1 run
# (docs/cpu-journal.md, "Kafka: what the broker is asked"). A cluster this stack does not start
# keeps its own JVM options.
_JIT_OPTIONS = ("-XX:TieredStopAtLevel=1",)
# The nodes of a cluster start in parallel threads; one Maven fetch and one cluster id for all.
_SHARED_FILES_LOCK = threading.Lock()


def cluster_durability(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) of topics on `brokers` brokers: three copies
    and two acknowledged writes on a cluster, so one broker may die without losing an acked
    event or refusing writes; whatever fits below three brokers."""
    replication = min(brokers, 3)
    return replication, 2 if replication >= 3 else 1


@dataclass(frozen=True)
class BrokerConfig:
    """What server.properties is rendered from."""

    host: str
    port: int
    controller_port: int
    data_dir: Path
    node_id: int = 1
    num_partitions: int = 6
    # (node id, controller port) of every controller of the cluster; empty: this node alone.
    voters: tuple[tuple[int, int], ...] = ()
    # Internal topics (offsets, transactions) and the broker defaults follow the cluster size.
    replication_factor: int = 1
    min_insync_replicas: int = 1


def render_server_properties(config: BrokerConfig) -> str:
    """server.properties of one node of a KRaft cluster in which every node is both broker
    and controller (one node, or a small local cluster)."""
    voters = config.voters or ((config.node_id, config.controller_port),)
    voter = ",".join(f"{node}@{config.host}:{port}" for node, port in voters)
    replicas = str(config.replication_factor)
    min_isr = str(config.min_insync_replicas)
    lines = [
        "# Written by `disputedesk stack up` at every start; edits here are overwritten.",
        "process.roles=broker,controller",
        f"node.id={config.node_id}",
        f"controller.quorum.voters={voter}",
        (
            f"listeners=PLAINTEXT://{config.host}:{config.port},"
            f"CONTROLLER://{config.host}:{config.controller_port}"
        ),
        f"advertised.listeners=PLAINTEXT://{config.host}:{config.port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={config.data_dir}",
        f"num.partitions={config.num_partitions}",
        # Topics exist because `disputedesk topics apply` made them, with the replication the
        # settings ask for; a mistyped name must fail, not appear with broker defaults.
        "auto.create.topics.enable=false",
        f"default.replication.factor={replicas}",
        f"min.insync.replicas={min_isr}",
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        # Fewer internal partitions than production: the first consumer group and the first
        # transaction of a test run create these topics, and 50 partitions cost seconds.
        "offsets.topic.num.partitions=10",
        "transaction.state.log.num.partitions=10",
        # Tests start consumers and expect assignments at once, not after 3 s of waiting.
        "group.initial.rebalance.delay.ms=0",
        # After a kill the restarted broker may only re-register once the session of its dead
        # incarnation expired: 5 s instead of 9 s per fault drill, same tolerance of missed
        # heartbeats (five) as the defaults (2 s / 9 s).
        "broker.heartbeat.interval.ms=1000",
        "broker.session.timeout.ms=5000",
    ]
    return "\n".join(lines) + "\n"


def new_cluster_id() -> str:
    """A cluster id as `kafka-storage random-uuid` makes it: 16 random bytes, base64url, and
    (as Kafka's own ids) never starting with `-`, which a command line would read as an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def java_major_version(version_output: str) -> int | None:
    """Major version from `java -version` output (`"17.0.15"` -> 17, `"1.8.0_392"` -> 8)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


class LocalKafka(LocalComponent):
    """One broker (node `node_id` of a local cluster of `brokers`), or the external cluster
    that KAFKA_BOOTSTRAP_SERVERS names.

    A single broker lives in <state>/kafka; node i of a cluster in <state>/kafka/node-i, on
    DISPUTEDESK_KAFKA_PORT + 2(i-1) (its controller one above). Jars and cluster id are shared.
    """

    name = "kafka"
    default_start_timeout = 180.0
    # Maven's first run downloads the broker and its dependencies (about 40 MB).
    fetch_timeout = 900.0

    def __init__(
        self,
        settings: StackSettings,
        *,
        repo_root: Path | None = None,
        node_id: int = 1,
        brokers: int = 1,
    ) -> None:
        super().__init__(settings)
        self.repo_root = repo_root or find_repo_root()
        self.node_id = node_id
        self.brokers = brokers
        root = settings.state_dir / "kafka"
        if brokers > 1:
            self.name = f"kafka-{node_id}"
        self.home = root if brokers == 1 else root / f"node-{node_id}"
        self.lib_dir = root / "lib"
        self.data_dir = self.home / "data"
        self.properties_path = self.home / "server.properties"
        self.cluster_id_path = root / "cluster.id"
        self.pid_file = self.home / "kafka.pid"
        self.console_log = self.home / "console.log"
        self.logs_dir = self.home / "logs"
        self.pom = self.repo_root / "deploy" / "kafka" / "pom.xml"
        self.log4j_config = self.repo_root / "deploy" / "kafka" / "log4j2.properties"

    # Identity.
    @property
    def external(self) -> bool:
        return self.settings.kafka_is_external

    @property
    def port(self) -> int:
        return self.settings.kafka_port + 2 * (self.node_id - 1)

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def bootstrap_servers(self) -> str:
        if self.settings.kafka_bootstrap_servers is not None:
            return self.settings.kafka_bootstrap_servers
        return ",".join(
            f"127.0.0.1:{self.settings.kafka_port + 2 * i}" for i in range(self.brokers)
        )

    @property
    def endpoint(self) -> str:
        return self.bootstrap_servers if self.external else f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.logs_dir / "server.log"

    def env(self) -> dict[str, str]:
        if self.external:
            # The operator of an external cluster sets the topic durability variables.
            return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers}
        replication, min_isr = cluster_durability(self.brokers)
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "KAFKA_TOPIC_REPLICATION_FACTOR": str(replication),
            "KAFKA_TOPIC_MIN_INSYNC_REPLICAS": str(min_isr),
        }

    def process(self) -> psutil.Process | None:
        # The properties path is unique to the state folder, so another stack's broker (other
        # state dir) or an unrelated java process never matches.
        return find_process(self.pid_file, marker=str(self.properties_path))

    def _after_stop(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    # Readiness.
    def probe(self) -> bool:
        if not self.external:
            return is_listening("127.0.0.1", self.port)
        host, port = first_bootstrap_address(self.bootstrap_servers)
        return is_listening(host, port)

    async def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Wait until the cluster creates (or already has) the readiness topic."""
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # The admin client logs every refused connection; wait for the listener first.
            if await asyncio.to_thread(self.probe):
                try:
                    await asyncio.wait_for(self._ensure_readiness_topic(), timeout=remaining)
                    return
                except (KafkaError, OSError, TimeoutError) as error:
                    last_error = error
            await asyncio.sleep(0.3)
        raise StackError(
            f"Kafka at {self.bootstrap_servers} did not create a topic within {timeout:.0f}s"
            + (f" (last error: {last_error!r})" if last_error else "")
            + ("" if self.external else f"; see {self.log_path}")
        )

    def wait_ready_blocking(self, *, timeout: float = 60.0) -> None:
        run_blocking(lambda: self.wait_ready(timeout=timeout))

    async def _ensure_readiness_topic(self) -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers,
            client_id="disputedesk-stack",
            request_timeout_ms=5_000,
        )
        try:
            await admin.start()
            response = await admin.create_topics(
                [NewTopic(READINESS_TOPIC, num_partitions=1, replication_factor=1)]
            )
        finally:
            await admin.close()
        for topic_error in response.topic_errors:
            code = topic_error[1]
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise for_code(code)(f"creating {READINESS_TOPIC}: {topic_error}")

    # Starting.
    def _launch(self, *, deadline: float, on_step: StepListener | None) -> None:
        java = self._require_java()
        self._require_free_ports()
        with _SHARED_FILES_LOCK:
            if not self.jars_complete():
                notify_step(on_step, "fetching Kafka jars with Maven")
                self.fetch_jars()
            self.cluster_id()
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        replication, min_isr = cluster_durability(self.brokers)
        self.properties_path.write_text(
            render_server_properties(
                BrokerConfig(
                    host="127.0.0.1",
                    port=self.port,
                    controller_port=self.controller_port,
                    data_dir=self.data_dir,
                    node_id=self.node_id,
                    voters=tuple(
                        (node, self.settings.kafka_port + 2 * (node - 1) + 1)
                        for node in range(1, self.brokers + 1)
                    ),
                    replication_factor=replication,
                    min_insync_replicas=min_isr,
                )
            ),
            encoding="utf-8",
        )
        if not (self.data_dir / "meta.properties").exists():
            notify_step(on_step, "formatting storage")
            self._format_storage(java)
        notify_step(on_step, "starting broker")
        heap = _HEAP_OPTIONS if self.brokers == 1 else _CLUSTER_HEAP_OPTIONS
        broker = spawn_detached(
            [java, *heap, *self._jvm_options(), "kafka.Kafka", str(self.properties_path)],
            log_path=self.console_log,
            cwd=self.home,
        )
        write_pid_file(self.pid_file, broker.pid)
        notify_step(on_step, f"waiting for the broker (pid {broker.pid})")
        while not self.probe():
            if broker.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(
                    f"Kafka exited with code {broker.returncode} while starting. "
                    f"Last lines of {self.console_log}:\n{log_tail(self.console_log)}\n"
                    f"Broker log: {self.log_path}"
                )
            if time.monotonic() >= deadline:
                raise StackError(
                    f"Kafka (pid {broker.pid}) did not listen on port {self.port} "
                    f"in time; see {self.log_path}"
                )
            time.sleep(0.2)
        self.wait_ready_blocking(timeout=max(5.0, deadline - time.monotonic()))

    def _jvm_options(self) -> list[str]:
        return [
            *_JIT_OPTIONS,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_config}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            # The JVM expands this wildcard itself; no shell is involved.
            f"{self.lib_dir}/*",
        ]

    def _require_java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise StackError(
                "`java` is not on PATH, and the local Kafka broker needs Java 17 or newer. "
                "Install a JRE (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`), "
                "or set KAFKA_BOOTSTRAP_SERVERS to use an existing broker instead."
            )
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
        major = java_major_version(result.stderr + result.stdout)
        if major is not None and major < _MIN_JAVA_MAJOR:
            raise StackError(
                f"{java} is Java {major}; Kafka 4 needs Java {_MIN_JAVA_MAJOR} or newer. "
                "Put a newer `java` first on PATH, or set KAFKA_BOOTSTRAP_SERVERS."
            )
        return java

    def _require_free_ports(self) -> None:
        for port, variable in (
            (self.port, "DISPUTEDESK_KAFKA_PORT"),
            (self.controller_port, "DISPUTEDESK_KAFKA_PORT (controller = +1)"),
        ):
            if not is_free("127.0.0.1", port):
                raise StackError(
                    f"port {port} on 127.0.0.1 is taken by another program, so Kafka cannot "
                    f"listen there. Stop that program, or choose another port with {variable}."
                )

    # Jars.
    def jars_complete(self) -> bool:
        """True when lib/ holds a complete copy made from the current pom.xml."""
        marker = self.lib_dir / _JARS_MARKER
        return marker.is_file() and marker.read_text(encoding="ascii") == self._pom_digest()

    def fetch_jars(self) -> None:
        """Copy the broker's jars into lib/ with Maven (into a side folder first, so an
        interrupted download never looks complete)."""
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError(
                "`mvn` is not on PATH. Maven is needed once, to download the Kafka broker jars "
                f"into {self.lib_dir}. Install it (Debian/Ubuntu: `apt-get install maven`), "
                "or set KAFKA_BOOTSTRAP_SERVERS to use an existing broker instead."
            )
        if not self.pom.is_file():
            raise StackError(f"{self.pom} is missing; the Kafka jars are resolved from it.")
        partial = self.home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        command = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(self.pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=self.fetch_timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise StackError(
                f"Maven did not finish fetching the Kafka jars within {self.fetch_timeout:.0f}s"
            ) from error
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise StackError(
                f"Maven could not fetch the Kafka jars (exit {result.returncode}):\n{output}\n"
                f"Command: {' '.join(command)}"
            )
        (partial / _JARS_MARKER).write_text(self._pom_digest(), encoding="ascii")
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        partial.rename(self.lib_dir)

    def _pom_digest(self) -> str:
        return hashlib.sha256(self.pom.read_bytes()).hexdigest()

    # Storage.
    def cluster_id(self) -> str:
        """The id the storage was (or will be) formatted with, made once per state folder."""
        if self.cluster_id_path.is_file():
            return self.cluster_id_path.read_text(encoding="ascii").strip()
        cluster_id = new_cluster_id()
        self.cluster_id_path.parent.mkdir(parents=True, exist_ok=True)
        self.cluster_id_path.write_text(cluster_id + "\n", encoding="ascii")
        return cluster_id

    def _format_storage(self, java: str) -> None:
        # Static voters (controller.quorum.voters) and --standalone exclude each other.
        command = [
            java,
            *self._jvm_options(),
            "kafka.tools.StorageTool",
            "format",
            # One argument with `=`: an id kept from before may still start with `-`.
            f"--cluster-id={self.cluster_id()}",
            "-c",
            str(self.properties_path),
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, cwd=self.home
        )
        if result.returncode != 0:
            raise StackError(
                f"formatting Kafka storage in {self.data_dir} failed "
                f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
