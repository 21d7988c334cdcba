"""The system under test: fresh databases, topics, credentials, four service processes."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.e2e.settings import ROOT, SERVICES

# ---------------------------------------------------------------------------------------------
# The system under test: fresh databases, topics, credentials, four service processes
# ---------------------------------------------------------------------------------------------


async def _recreate_topics(bootstrap: str) -> None:
    """Fresh topics: earlier bench sections publish on these same topics (notifications, for
    one, pre-loads case events), and their messages must not reach this run's services."""
    from aiokafka.admin import AIOKafkaAdminClient

    from shared.events import TOPICS
    from shared.kafka.admin import ensure_topics

    names = [n for t in TOPICS.values() for n in (t.name, t.dlq)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = [n for n in names if n in set(await admin.list_topics())]
        if existing:
            await admin.delete_topics(existing)
        deadline = time.monotonic() + 30
        while set(await admin.list_topics()) & set(existing):
            if time.monotonic() > deadline:
                raise RuntimeError("Kafka did not delete the old topics")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    for attempt in range(50):  # deletion is asynchronous on the broker side
        try:
            await ensure_topics(bootstrap, partitions=6)
            return
        except Exception:
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)


async def prepare_system(env: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:
    from bench.intake import _fresh_database, _prepare_database
    from disputedesk import credentials
    from shared.migrations import upgrade

    server = env.get("BENCH_DATABASE_URL") or env["INTAKE_DATABASE_URL"]
    urls = {}
    for name in SERVICES:
        urls[name] = await _fresh_database(server, f"bench_e2e_{name}")
        await asyncio.to_thread(upgrade, name, urls[name])
    secrets, keyring = credentials.generate()
    # Partners seeded, their per-partner rate limit lifted: the load is the subject here.
    await _prepare_database(urls["intake"], secrets)
    log("databases fresh and migrated, partners seeded")
    await _recreate_topics(env["KAFKA_BOOTSTRAP_SERVERS"])
    log("topics recreated")
    state = Path(os.environ.get("DISPUTEDESK_STATE_DIR") or ROOT / ".state" / "bench") / "e2e"
    state.mkdir(parents=True, exist_ok=True)
    keyring_file = state / "keyring.json"
    keyring_file.write_text(json.dumps(keyring))
    return {"urls": urls, "secrets": secrets, "keyring_file": keyring_file, "state": state}


async def baseline_database(env: dict[str, str]) -> str:
    """A fresh database of its own for the raw commits' baseline: written in intake's, its few
    thousand commits and rows were counted with intake's step and stayed in the database the
    first pass's intake then served from."""
    from bench.intake import _fresh_database

    server = env.get("BENCH_DATABASE_URL") or env["INTAKE_DATABASE_URL"]
    return await _fresh_database(server, "bench_e2e_baseline")


class Services:
    """Services as `disputedesk run` starts them (uvicorn processes, own process groups, logs
    under <state>/logs), one per entry of `ports`: the four, or one under study alone. With
    `replicas` > 1, that many processes of each, as `disputedesk run --replicas N` starts them
    (one environment for all; replica r on the port + REPLICA_PORT_STEP·(r−1))."""

    def __init__(
        self,
        env: dict[str, str],
        system: dict[str, Any],
        ports: dict[str, int],
        *,
        replicas: int = 1,
    ) -> None:
        from disputedesk.stack.config import StackSettings, find_repo_root
        from disputedesk.stack.supervisor import (
            REPLICA_PORT_STEP,
            ServiceSpec,
            SupervisedService,
            service_environment,
        )

        stack_env = {
            **{k: v for k, v in env.items() if not k.startswith("BENCH_")},
            **{f"{n.upper()}_DATABASE_URL": u for n, u in system["urls"].items()},
        }
        from disputedesk import credentials

        base = {
            **os.environ,
            **credentials.at_rest_environment(os.environ, system["secrets"]),
            "DISPUTEDESK_KEYRING_FILE": str(system["keyring_file"]),
            # As with the partners' limits: the load is the subject, so the feed's and the
            # agent's keys get room above every step (the limiter itself still runs and costs
            # what it costs in production).
            "RATE_LIMIT_OVERRIDES": json.dumps(
                {
                    client: {"per_s": 100_000, "burst": 100_000}
                    for client in ("marketplace", "agent.asha")
                }
            ),
        }
        process_env = service_environment(
            base, stack_env, settings=StackSettings(), repo_root=find_repo_root()
        )
        logs = system["state"] / "logs"
        self.services = [
            SupervisedService(
                spec=spec,
                env=process_env,
                cwd=ROOT,
                log_path=logs / f"{spec.label}.log",
            )
            for name, port in ports.items()
            for r in range(1, replicas + 1)
            for spec in [ServiceSpec(name, port + REPLICA_PORT_STEP * (r - 1), replica=r)]
        ]
        self.replicas = replicas

    @property
    def urls(self) -> dict[str, str]:
        """The first replica's URL of each service."""
        return {s.spec.name: s.spec.base_url for s in self.services if s.spec.replica == 1}

    @property
    def replica_urls(self) -> dict[str, list[str]]:
        """Every replica's URL, per service."""
        out: dict[str, list[str]] = {}
        for s in self.services:
            out.setdefault(s.spec.name, []).append(s.spec.base_url)
        return out

    def start(self) -> None:
        for service in self.services:
            service.start()

    async def ready(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                for s in self.services:
                    if s.exit_code() is not None:
                        raise RuntimeError(f"{s.spec.name} exited; see {s.log_path}")
                if all(s.healthy or s.check_health(client) for s in self.services):
                    return
                await asyncio.sleep(0.5)
        raise RuntimeError("services did not become healthy")

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    def cpu_seconds(self) -> dict[str, float]:
        import psutil

        out: dict[str, float] = {}
        for s in self.services:  # replicas of a service are summed under its name
            try:
                times = psutil.Process(s.process.pid).cpu_times() if s.process else None
            except psutil.Error:
                times = None
            out[s.spec.name] = out.get(s.spec.name, 0.0) + (
                (times.user + times.system) if times else 0.0
            )
        return out
