"""One world against a real stack: fresh databases, the four services, the replay, the wait for
the pipeline to settle, the score. `disputedesk fraud-world` runs it for each seed asked."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from disputedesk import credentials
from disputedesk.drills.fleet import ServiceFleet, drill_service_specs, fresh_service_databases
from disputedesk.drills.observe import (
    SERVICES,
    ServiceDatabases,
    consumer_lag,
    unpublished_outbox_rows,
)
from disputedesk.fraudworld.score import Reader, score, table
from disputedesk.fraudworld.traffic import Keys, Replayer
from disputedesk.fraudworld.world import World, build_world
from disputedesk.stack.config import find_repo_root
from disputedesk.stack.local_stack import Stack
from disputedesk.stack.supervisor import DEFAULT_SERVICE_PORTS, service_environment

DATABASE_PREFIX = "fworld_"
CREDENTIALS_FOLDER = "fworld-credentials"
# The pipeline counts as settled once nothing waits in an outbox or a consumer group and
# fraud's assessments and alerts stopped changing for this long.
QUIET_S = 20.0


def _say(text: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {text}", flush=True)


class WorldRun:
    def __init__(
        self,
        world: World,
        *,
        environ: Mapping[str, str] | None = None,
        port_base: int | None = None,
        settle_timeout_s: float = 1800.0,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.world = world
        self.environ = dict(os.environ if environ is None else environ)
        if port_base is not None:
            for k, name in enumerate((*DEFAULT_SERVICE_PORTS, "console"), start=1):
                self.environ.setdefault(f"{name.upper()}_PORT", str(port_base + k))
        # The stack's own settings only (state folder, ports), as the drill takes them: an
        # endpoint in the environment (a test session's Kafka and databases) is not the world's,
        # whose services must not join another pipeline's consumer groups.
        self.stack = Stack.from_env(
            {k: v for k, v in self.environ.items() if k.startswith("DISPUTEDESK_")}
        )
        self.settle_timeout_s = settle_timeout_s
        self.say = say

    def _prepare(self) -> tuple[dict[str, str], dict[str, str], Path]:
        """Stack up, fresh databases at head, credentials with a portal key per seller of the
        world, partners seeded. Blocking."""
        from services.intake.partners.seeding import seed_dev_partners

        stack_env = dict(self.stack.up())
        self.stack.apply_topics(stack_env)
        stack_env.update(fresh_service_databases(self.stack, DATABASE_PREFIX))
        folder = self.stack.settings.state_dir / CREDENTIALS_FOLDER
        sellers = sorted({r.seller for r in self.world.returns})
        credentials.ensure(
            folder,
            force=True,
            clients=[*credentials.DEV_CLIENTS, *map(credentials.portal_client, sellers)],
        )
        secrets = credentials.read_env(folder / credentials.CREDENTIALS_FILE)
        environ = {**self.environ, **credentials.at_rest_environment(self.environ, secrets)}
        asyncio.run(seed_dev_partners(stack_env["INTAKE_DATABASE_URL"], secrets, environ=environ))
        return stack_env, secrets, folder / credentials.KEYRING_FILE

    async def _settle(self, dbs: ServiceDatabases, bootstrap: str) -> dict[str, Any]:
        began = time.monotonic()
        previous: tuple[int, int] | None = None
        quiet_since = time.monotonic()
        last_said = 0.0
        while True:
            outbox = await unpublished_outbox_rows(dbs)
            lag = await consumer_lag(bootstrap)
            counts = (
                int(await dbs.scalar("fraud", "SELECT count(*) FROM assessments") or 0),
                int(await dbs.scalar("fraud", "SELECT count(*) FROM alerts") or 0),
            )
            waiting = sum(outbox.values()) + sum(lag.values())
            if counts != previous or waiting:
                quiet_since = time.monotonic()
            previous = counts
            took = time.monotonic() - began
            if time.monotonic() - last_said > 15:
                last_said = time.monotonic()
                self.say(
                    f"settling: outbox {sum(outbox.values())}, consumer lag "
                    f"{ {k: v for k, v in lag.items() if v} }, assessments {counts[0]}, "
                    f"alerts {counts[1]}, {took:.0f}s"
                )
            if not waiting and time.monotonic() - quiet_since >= QUIET_S:
                return {
                    "settled": True,
                    "took_s": round(took, 1),
                    "assessments": counts[0],
                    "alerts": counts[1],
                }
            if took > self.settle_timeout_s:
                return {"settled": False, "took_s": round(took, 1), "outbox": outbox, "lag": lag}
            await asyncio.sleep(3.0)

    async def run(self) -> dict[str, Any]:
        world = self.world
        self.say(f"world {world.seed}: {json.dumps(world.summary()['planted_claims'])}")
        stack_env, secrets, keyring = await asyncio.to_thread(self._prepare)
        repo_root = find_repo_root()
        env = service_environment(
            self.environ, stack_env, settings=self.stack.settings, repo_root=repo_root
        )
        env["DISPUTEDESK_KEYRING_FILE"] = str(keyring)
        env.update(credentials.at_rest_environment(self.environ, secrets))
        fleet = ServiceFleet(
            drill_service_specs(self.environ),
            env=env,
            cwd=repo_root,
            logs_dir=self.stack.settings.service_logs_dir,
        )
        keys = Keys(
            marketplace=secrets["DISPUTEDESK_KEY_MARKETPLACE"],
            swiftship_secret=secrets["SWIFTSHIP_SECRET"],
            rapidroute_secret=secrets["RAPIDROUTE_SECRET"],
            desipost_key=secrets["DESIPOST_API_KEY"],
            seller_keys={
                r.seller: secrets[credentials.portal_client(r.seller)[0]] for r in world.returns
            },
        )
        dbs = ServiceDatabases({s: stack_env[f"{s.upper()}_DATABASE_URL"] for s in SERVICES})
        try:
            await fleet.start_all()
            self.say("services ready: " + ", ".join(f"{n} {fleet.url(n)}" for n in fleet.names))
            began = time.monotonic()
            async with httpx.AsyncClient(base_url=fleet.url("intake"), timeout=30.0) as http:
                sent = await Replayer(world, http, keys, say=self.say).run()
            replay_s = time.monotonic() - began
            self.say(f"replay done in {replay_s:.0f}s; waiting for the pipeline to settle")
            settle = await self._settle(dbs, stack_env["KAFKA_BOOTSTRAP_SERVERS"])
            self.say(f"settle: {settle}")
            async with (
                httpx.AsyncClient(base_url=fleet.url("fraud"), timeout=30.0) as fraud,
                httpx.AsyncClient(base_url=fleet.url("reconciliation"), timeout=30.0) as desk,
            ):
                reader = Reader(fraud, desk, secrets["DISPUTEDESK_KEY_OPS_MANAGER"])
                result = await score(world, sent, reader, say=self.say)
        finally:
            fleet.stop_all()
            for engine in dbs.engines.values():
                await engine.dispose()
        sent_summary = {
            k: v for k, v in asdict(sent).items() if k not in ("checkpoints", "escalations")
        }
        return {
            "world": world.summary(),
            "replay": {
                **sent_summary,
                "took_s": round(replay_s, 1),
                "escalations_filed": len(sent.escalations),
            },
            "settle": settle,
            "result": result,
            "table": table(result),
        }


def _plain(value: Any) -> Any:
    """JSON-ready: keys that are tuples (entity type, id) become "type id"."""
    if isinstance(value, dict):
        return {
            " ".join(map(str, k)) if isinstance(k, tuple) else k: _plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_seeds(
    seeds: list[int],
    *,
    scale: float,
    out: Path | None,
    port_base: int | None,
    settle_timeout_s: float,
    blatant: bool = False,
) -> list[dict[str, Any]]:
    # A SIGTERM ends the run the way Ctrl-C does, so the services it started are stopped too.
    signal.signal(signal.SIGTERM, _interrupted)
    reports = []
    for seed in seeds:
        world = build_world(seed, scale=scale, blatant=blatant)
        report = asyncio.run(
            WorldRun(world, port_base=port_base, settle_timeout_s=settle_timeout_s).run()
        )
        reports.append(report)
        _say(f"seed {seed}:\n{report['table']}")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"seed-{seed}.json").write_text(
                json.dumps(_plain(report), indent=2, default=str) + "\n"
            )
            (out / f"seed-{seed}.md").write_text(f"# seed {seed}\n\n{report['table']}\n")
    return reports
