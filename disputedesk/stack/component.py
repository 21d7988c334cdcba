"""What every part of the local stack (Kafka, PostgreSQL, mail sink) offers: start, stop,
kill, status, readiness and the connection environment it contributes."""

from __future__ import annotations

import asyncio
import enum
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, TypeVar

import psutil

from disputedesk.stack.config import StackSettings
from disputedesk.stack.process import kill, terminate

T = TypeVar("T")

# Receives short progress notes ("fetching jars", "formatting storage") for the console.
StepListener = Callable[[str], None]


class StackError(RuntimeError):
    """A component could not be started, stopped or reached; the message says what to do."""


class ExternalComponentError(StackError):
    """The environment points at an external endpoint, which the stack does not manage."""


class ComponentState(enum.StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    EXTERNAL = "external"


class StartOutcome(enum.StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already running"
    EXTERNAL = "external"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: ComponentState
    endpoint: str
    pid: int | None
    started_at: datetime | None
    log_path: Path | None


def run_blocking(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, also when the calling thread is
    already running an event loop (a pytest-asyncio test calling `Stack.up()`): then it runs
    on a private loop in a short-lived thread, which blocks the caller's loop meanwhile."""

    async def main() -> T:
        return await make_coroutine()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stack-readiness") as pool:
        return pool.submit(asyncio.run, main()).result()


def notify_step(on_step: StepListener | None, step: str) -> None:
    if on_step is not None:
        on_step(step)


class LocalComponent(ABC):
    """A server the stack runs as a detached process, unless the environment names an
    external endpoint for it."""

    name: ClassVar[str]
    default_start_timeout: ClassVar[float] = 120.0
    default_stop_timeout: ClassVar[float] = 30.0

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings

    # What each component defines.
    @property
    @abstractmethod
    def external(self) -> bool:
        """True when the environment supplies the endpoint and nothing is run locally."""

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """host:port (or URL) that clients use, for status lines."""

    @property
    @abstractmethod
    def log_path(self) -> Path:
        """The log to read when the component misbehaves."""

    @abstractmethod
    def env(self) -> dict[str, str]:
        """The connection variables this component contributes to stack.env."""

    @abstractmethod
    def process(self) -> psutil.Process | None:
        """The running server process, or None."""

    @abstractmethod
    def _launch(self, *, deadline: float, on_step: StepListener | None) -> None:
        """Prepare and start the server; return once it serves (or raise StackError)."""

    @abstractmethod
    def probe(self) -> bool:
        """One quick synchronous readiness check."""

    # Shared lifecycle.
    def is_running(self) -> bool:
        return self.process() is not None

    def pid(self) -> int | None:
        process = self.process()
        return process.pid if process is not None else None

    def start(
        self, *, timeout: float | None = None, on_step: StepListener | None = None
    ) -> StartOutcome:
        """Start the server unless it runs already; return when it serves clients.

        For an external endpoint this only waits until the endpoint answers.
        """
        timeout = self.default_start_timeout if timeout is None else timeout
        if self.external:
            notify_step(on_step, f"waiting for {self.endpoint}")
            self.wait_ready_blocking(timeout=timeout)
            return StartOutcome.EXTERNAL
        if self.is_running():
            notify_step(on_step, "checking")
            self.wait_ready_blocking(timeout=timeout)
            return StartOutcome.ALREADY_RUNNING
        self._launch(deadline=time.monotonic() + timeout, on_step=on_step)
        return StartOutcome.STARTED

    def stop(self, *, timeout: float | None = None) -> bool:
        """Stop the server gracefully (SIGTERM, then SIGKILL after `timeout`).

        Returns False when nothing was running; keeps all data for the next start.
        """
        self._refuse_if_external("stop")
        process = self.process()
        if process is None:
            return False
        terminate(process, timeout=self.default_stop_timeout if timeout is None else timeout)
        self._after_stop()
        return True

    def kill(self) -> bool:
        """SIGKILL the server, as a crash would; data survives as the server left it."""
        self._refuse_if_external("kill")
        process = self.process()
        if process is None:
            return False
        kill(process, with_children=True)
        self._after_stop()
        return True

    def restart(self, *, timeout: float | None = None) -> None:
        self._refuse_if_external("restart")
        self.stop(timeout=timeout)
        self.start(timeout=timeout)

    def status(self) -> ComponentStatus:
        if self.external:
            return ComponentStatus(
                self.name, ComponentState.EXTERNAL, self.endpoint, None, None, None
            )
        process = self.process()
        if process is None:
            return ComponentStatus(
                self.name, ComponentState.STOPPED, self.endpoint, None, None, self.log_path
            )
        try:
            started_at: datetime | None = datetime.fromtimestamp(process.create_time(), UTC)
        except psutil.Error:
            started_at = None
        return ComponentStatus(
            self.name,
            ComponentState.RUNNING,
            self.endpoint,
            process.pid,
            started_at,
            self.log_path,
        )

    async def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Wait until the endpoint serves clients, without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(self.probe):
            if time.monotonic() >= deadline:
                raise StackError(
                    f"{self.name} at {self.endpoint} is not ready after {timeout:.0f}s"
                )
            await asyncio.sleep(0.2)

    def wait_ready_blocking(self, *, timeout: float = 60.0) -> None:
        """`wait_ready` for synchronous callers (any thread, event loop running or not)."""
        deadline = time.monotonic() + timeout
        while not self.probe():
            if time.monotonic() >= deadline:
                raise StackError(
                    f"{self.name} at {self.endpoint} is not ready after {timeout:.0f}s"
                )
            time.sleep(0.2)

    def _after_stop(self) -> None:  # noqa: B027 — an optional hook, empty by default
        """Clean-up after the process is gone (pid files); components may extend it."""

    def _refuse_if_external(self, action: str) -> None:
        if self.external:
            raise ExternalComponentError(
                f"{self.name} is external ({self.endpoint}, from the environment); "
                f"the stack cannot {action} it"
            )
