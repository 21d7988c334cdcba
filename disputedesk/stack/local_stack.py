"""The whole local stack as one object: bring Kafka, PostgreSQL and the mail sink up or down
together, and hand out the connection environment the services and tests need."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from disputedesk.stack.component import (
    ComponentStatus,
    LocalComponent,
    StackError,
    StartOutcome,
    run_blocking,
)
from disputedesk.stack.config import StackSettings, write_env_file
from disputedesk.stack.kafka import LocalKafka
from disputedesk.stack.mailsink import LocalMailSink
from disputedesk.stack.postgres import LocalPostgres


class StackReporter(Protocol):
    """Told about each component's progress; the CLI draws it, tests pass nothing."""

    def component_began(self, name: str, action: str) -> None: ...

    def component_step(self, name: str, step: str) -> None: ...

    def component_done(self, name: str, outcome: str) -> None: ...

    def component_failed(self, name: str, error: str) -> None: ...


class Stack:
    """Kafka, PostgreSQL and the mail sink of one state folder."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        # An external cluster is one endpoint, however many brokers it has.
        brokers = (
            1
            if settings.kafka_is_external
            else settings.kafka_brokers or _recorded_brokers(settings)
        )
        self.kafka_nodes = [
            LocalKafka(settings, node_id=node, brokers=brokers) for node in range(1, brokers + 1)
        ]
        # The first broker: the whole of Kafka on one broker, and the bootstrap of a cluster.
        self.kafka = self.kafka_nodes[0]
        self.postgres = LocalPostgres(settings)
        self.mailsink = LocalMailSink(settings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Stack:
        """The stack the environment describes (DISPUTEDESK_STATE_DIR, ports, endpoints).

        `environ` replaces os.environ when given, which keeps tests independent of the shell.
        """
        if environ is None:
            return cls(StackSettings())
        return cls(_GivenEnvironmentSettings.model_validate(_settings_input(environ)))

    @classmethod
    def with_brokers(cls, brokers: int) -> Stack:
        """The environment's stack, with `brokers` Kafka brokers."""
        return cls(StackSettings().model_copy(update={"kafka_brokers": brokers}))

    @property
    def components(self) -> tuple[LocalComponent, ...]:
        return (*self.kafka_nodes, self.postgres, self.mailsink)

    def record_layout(self) -> None:
        """Remember the number of brokers, so `down` and `status` find them all later."""
        if self.kafka.external:
            return
        path = self.settings.kafka_brokers_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{len(self.kafka_nodes)}\n", encoding="ascii")

    def up(
        self, *, timeout: float | None = None, reporter: StackReporter | None = None
    ) -> dict[str, str]:
        """Start whatever is not running yet (in parallel), wait until all serve, write
        stack.env, and return the connection environment. Safe to call again at any time."""
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        with self._exclusive():
            self._refuse_other_layout()
            self.record_layout()

            def start(component: LocalComponent) -> str:
                outcome = component.start(
                    timeout=timeout, on_step=_step_listener(reporter, component.name)
                )
                return _describe_start(component, outcome)

            self._each_in_parallel(start, action="starting", reporter=reporter)
            write_env_file(self.settings.env_file, self.env())
        return self.env()

    def down(self, *, timeout: float | None = None, reporter: StackReporter | None = None) -> None:
        """Stop every local component (SIGTERM, then SIGKILL after `timeout`); data is kept.
        External endpoints are left alone. Safe to call when nothing runs."""
        if not self.settings.state_dir.exists():
            return
        with self._exclusive():

            def stop(component: LocalComponent) -> str:
                if component.external:
                    return f"external ({component.endpoint}), left alone"
                return "stopped" if component.stop(timeout=timeout) else "was not running"

            self._each_in_parallel(stop, action="stopping", reporter=reporter)

    def env(self) -> dict[str, str]:
        """KAFKA_BOOTSTRAP_SERVERS with the topics' replication factor and min.insync.replicas,
        the four *_DATABASE_URL, SMTP_HOST, SMTP_PORT, MAIL_SINK_DIR."""
        env: dict[str, str] = {}
        for component in self.components:
            env.update(component.env())
        return env

    def apply_topics(self, env: Mapping[str, str] | None = None) -> None:
        """`disputedesk topics apply` against this stack: every topic, with the replication
        its brokers allow (what tests, drills and benchmarks do right after `up`)."""
        from shared.kafka.admin import apply_topics

        env = self.env() if env is None else env
        run_blocking(
            lambda: apply_topics(
                env["KAFKA_BOOTSTRAP_SERVERS"],
                replication_factor=int(env.get("KAFKA_TOPIC_REPLICATION_FACTOR", "1")),
                min_insync_replicas=int(env.get("KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "1")),
            )
        )

    def _refuse_other_layout(self) -> None:
        # One broker and a cluster of the same state folder share ports: the one running
        # must be stopped before the other starts, or the second would find its ports taken.
        recorded = _recorded_brokers(self.settings)
        if recorded == len(self.kafka_nodes) or self.kafka.external:
            return
        running = Stack(self.settings.model_copy(update={"kafka_brokers": recorded}))
        if any(node.is_running() for node in running.kafka_nodes):
            raise StackError(
                f"Kafka runs here with {recorded} broker(s); stop the stack "
                f"(`disputedesk stack down`) before bringing it up with {len(self.kafka_nodes)}"
            )

    def status(self) -> list[ComponentStatus]:
        return [component.status() for component in self.components]

    async def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Wait until every component serves clients, without blocking the event loop."""
        await asyncio.gather(
            *(component.wait_ready(timeout=timeout) for component in self.components)
        )

    def _each_in_parallel(
        self,
        work: Callable[[LocalComponent], str],
        *,
        action: str,
        reporter: StackReporter | None,
    ) -> None:
        failures: list[str] = []

        def run(component: LocalComponent) -> None:
            if reporter is not None:
                reporter.component_began(component.name, action)
            # Whatever goes wrong in one component is reported on its line and raised with
            # the others below, instead of vanishing in the worker thread.
            try:
                outcome = work(component)
            except Exception as error:  # noqa: BLE001
                failures.append(f"{component.name}: {error}")
                if reporter is not None:
                    reporter.component_failed(component.name, _first_line(error))
                return
            if reporter is not None:
                reporter.component_done(component.name, outcome)

        # Each component waits on its own process (JVM start-up, initdb), so threads overlap
        # those waits; Kafka's readiness check runs its own event loop inside its thread.
        with ThreadPoolExecutor(
            max_workers=len(self.components), thread_name_prefix="stack"
        ) as pool:
            list(pool.map(run, self.components))
        if failures:
            raise StackError("\n\n".join(failures))

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        # Two `stack up` on one state folder (two terminals, parallel test workers) would
        # otherwise both find Kafka stopped and both start it.
        with self.settings.lock_file.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class _GivenEnvironmentSettings(StackSettings):
    """StackSettings read from the given mapping only: pydantic-settings would otherwise also
    read os.environ, and a test process that exported a stack's URLs would see them leak in."""

    @classmethod
    def settings_customise_sources(  # type: ignore[override]
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        **_other_sources: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _settings_input(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment variables as StackSettings field names, read as pydantic-settings reads
    os.environ. Field names, not variable names: SMTP_PORT (external server) and
    DISPUTEDESK_SMTP_PORT (local sink) would otherwise both land on `smtp_port`."""
    fields: dict[str, str] = {}
    for variable, value in environ.items():
        if variable.startswith("DISPUTEDESK_"):
            fields[variable.removeprefix("DISPUTEDESK_").lower()] = value
        elif variable in _ENDPOINT_FIELDS:
            fields[_ENDPOINT_FIELDS[variable]] = value
    return fields


_ENDPOINT_FIELDS = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka_bootstrap_servers",
    "INTAKE_DATABASE_URL": "intake_database_url",
    "FRAUD_DATABASE_URL": "fraud_database_url",
    "RECONCILIATION_DATABASE_URL": "reconciliation_database_url",
    "NOTIFICATIONS_DATABASE_URL": "notifications_database_url",
    "SMTP_HOST": "smtp_host",
    "SMTP_PORT": "external_smtp_port",
}


def _recorded_brokers(settings: StackSettings) -> int:
    try:
        return max(1, int(settings.kafka_brokers_file.read_text(encoding="ascii").strip()))
    except (OSError, ValueError):
        return 1


def _describe_start(component: LocalComponent, outcome: StartOutcome) -> str:
    if outcome is StartOutcome.EXTERNAL:
        return f"external, {component.endpoint}"
    pid = component.pid()
    return f"{outcome.value} on {component.endpoint} (pid {pid})"


def _step_listener(reporter: StackReporter | None, name: str) -> Callable[[str], None] | None:
    if reporter is None:
        return None
    return lambda step: reporter.component_step(name, step)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
