"""The four services as real uvicorn processes (the supervisor's ServiceSpec and process
handling), which the drill can crash with SIGKILL and start again."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from disputedesk.drills.observe import SERVICES
from disputedesk.stack.ports import is_free
from disputedesk.stack.supervisor import (
    DEFAULT_SERVICE_PORTS,
    ServiceSpec,
    SupervisedService,
    service_specs,
)

if TYPE_CHECKING:
    from disputedesk.stack.local_stack import Stack


def fresh_service_databases(stack: Stack, prefix: str) -> dict[str, str]:
    """Each service's database `<prefix><service>` dropped, created and migrated on the
    stack's PostgreSQL: a drill or an evaluation world starts from nothing and never touches
    `make run`'s databases. Returns the services' `<SERVICE>_DATABASE_URL` settings."""
    from shared.migrations import upgrade  # alembic: only for the commands that need it

    urls: dict[str, str] = {}
    for service in SERVICES:
        database = f"{prefix}{service}"
        stack.postgres.drop_database(database)
        stack.postgres.create_database(database)
        url = stack.postgres.database_url(database)
        urls[f"{service.upper()}_DATABASE_URL"] = url
        upgrade(service, url)
    return urls


def free_port(*, below: int | None, rng: random.Random | None = None) -> int:
    """A free port under `below` (the kernel's ephemeral range starts there), else any.

    A port the kernel hands out for port 0 lies in the ephemeral range: while the drill keeps
    a service down, the clients retrying it could be given that port for their own end and
    hold it, and the service could not listen there again.
    """
    if below is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    rng = rng or random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, below - 8000), below)
        if is_free("127.0.0.1", port):
            return port
    raise RuntimeError(f"no free port found below {below}")


def drill_service_specs(
    environ: Mapping[str, str], *, ephemeral: range | None = None, replicas: int = 1
) -> list[ServiceSpec]:
    """Each service on `<NAME>_PORT` when the environment sets it, else on a free port below
    the ephemeral range, so a drill never collides with `make run` on the usual ports; with
    `replicas`, further processes of each service on ports of their own."""
    if replicas > 1:
        return _replica_specs(ephemeral, replicas)
    chosen = dict(environ)
    variables = [f"{name.upper()}_PORT" for name in DEFAULT_SERVICE_PORTS]
    taken = {chosen[v] for v in variables if chosen.get(v)}
    for variable in variables:
        if chosen.get(variable):
            continue  # given: service_specs checks it
        port = str(free_port(below=ephemeral.start if ephemeral else None))
        while port in taken:
            port = str(free_port(below=ephemeral.start if ephemeral else None))
        chosen[variable] = port
        taken.add(port)
    return service_specs(chosen)


def _replica_specs(ephemeral: range | None, replicas: int) -> list[ServiceSpec]:
    taken: set[int] = set()
    specs: list[ServiceSpec] = []
    for name in DEFAULT_SERVICE_PORTS:
        for replica in range(1, replicas + 1):
            port = free_port(below=ephemeral.start if ephemeral else None)
            while port in taken:
                port = free_port(below=ephemeral.start if ephemeral else None)
            taken.add(port)
            specs.append(ServiceSpec(name, port, replica=replica))
    return specs


class ServiceFleet:
    """Starts, kills and restarts the service processes of a drill."""

    def __init__(
        self, specs: Sequence[ServiceSpec], *, env: Mapping[str, str], cwd: Path, logs_dir: Path
    ) -> None:
        # Keyed by label: `intake`, and `intake-2`… for further replicas.
        self.services = {
            spec.label: SupervisedService(
                spec=spec, env=dict(env), cwd=cwd, log_path=logs_dir / f"drill-{spec.label}.log"
            )
            for spec in specs
        }

    def url(self, name: str) -> str:
        return self.services[name].spec.base_url

    @property
    def names(self) -> list[str]:
        return list(self.services)

    async def start_all(self, *, timeout: float = 120.0) -> None:
        for service in self.services.values():
            service.start()
        await asyncio.gather(*(self.wait_ready(name, timeout=timeout) for name in self.services))

    async def kill(self, name: str) -> None:
        """SIGKILL the service's process group, as the kernel's OOM killer or a power cut would."""
        process = self.services[name].process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await asyncio.to_thread(process.wait)

    async def restart(self, name: str, *, timeout: float = 120.0) -> None:
        service = self.services[name]
        service.restarts += 1
        service.start()
        await self.wait_ready(name, timeout=timeout)

    async def graceful_restart(self, name: str, *, timeout: float = 120.0) -> None:
        """SIGTERM (uvicorn drains requests, the lifespan stops consumers and relay), start."""
        await asyncio.to_thread(self.services[name].stop)
        await self.restart(name, timeout=timeout)

    def replicas_of(self, service: str) -> list[str]:
        return [label for label, s in self.services.items() if s.spec.name == service]

    async def wait_ready(self, name: str, *, timeout: float = 120.0) -> None:
        """Until `/readyz` answers 200 (database and Kafka reachable); fails early if the
        process exits, pointing at its log."""
        service = self.services[name]
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=3.0) as client:
            while True:
                code = service.exit_code()
                if code is not None:
                    raise RuntimeError(
                        f"{name} exited with code {code} while starting; see {service.log_path}"
                    )
                try:
                    response = await client.get(f"{service.spec.base_url}/readyz")
                    if response.status_code == 200:
                        service.healthy = service.ever_healthy = True
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"{name} not ready after {timeout:.0f}s; see {service.log_path}"
                    )
                await asyncio.sleep(0.3)

    def stop_all(self) -> None:
        """SIGTERM each service (SIGKILL after the supervisor's timeout)."""
        for service in self.services.values():
            service.stop()
