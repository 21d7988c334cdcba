"""One fault drill from start to verdict: stack, fresh drill databases, the four services as
processes, traffic, faults in turn, drain, reconciliation checks, report."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from disputedesk import credentials
from disputedesk.drills.checks import (
    CheckResult,
    DrillEvidence,
    Verdict,
    money_path_figures,
    run_checks,
)
from disputedesk.drills.desk import CaseFollowUp
from disputedesk.drills.faults import DrillTargets, Fault, fault_sequence, fleet_sequence
from disputedesk.drills.fleet import ServiceFleet, drill_service_specs, fresh_service_databases
from disputedesk.drills.observe import (
    SERVICES,
    ServiceDatabases,
    consumer_lag,
    tally_topic,
    unpublished_outbox_rows,
)
from disputedesk.drills.traffic import (
    DRILL_SELLERS,
    AcceptedLedger,
    Credentials,
    DrillClient,
    TrafficGenerator,
    TrafficPlan,
)
from disputedesk.stack.config import find_repo_root
from disputedesk.stack.local_stack import Stack
from disputedesk.stack.supervisor import service_environment
from shared.events import INTAKE_RETURNS

DRILL_DATABASE_PREFIX = "drill_"
PROGRESS_EVERY_S = 15.0
CREDENTIALS_FOLDER = "drill-credentials"


@dataclass(frozen=True)
class DrillPlan:
    """Pace of traffic and length of each fault. `short()` fits a CI job."""

    traffic: TrafficPlan = field(default_factory=TrafficPlan)
    warmup_s: float = 5.0  # clean traffic before the first fault
    settle_s: float = 5.0  # clean traffic between faults
    broker_down_s: float = 5.0
    service_down_s: float = 2.0
    replay_share: float = 0.25
    broker_crash: bool = True  # also SIGKILL the broker once (the short drill leaves it out)
    drain_timeout_s: float = 180.0
    give_up_after_s: float = 180.0
    # The fleet drill: a Kafka cluster of `brokers` and `replicas` processes of each service;
    # either above 1 swaps the faults for the fleet's (see `faults`).
    brokers: int = 1
    replicas: int = 1

    @classmethod
    def short(cls) -> DrillPlan:
        return cls(
            traffic=TrafficPlan(stories_per_s=1.5, concurrency=8),
            warmup_s=2.0,
            settle_s=1.5,
            broker_down_s=2.0,
            service_down_s=0.5,
            replay_share=0.2,
            broker_crash=False,
            drain_timeout_s=90.0,
        )

    @classmethod
    def fleet_short(cls) -> DrillPlan:
        """The short drill on three brokers with two replicas of each service, as CI runs it."""
        return dataclasses.replace(cls.short(), brokers=3, replicas=2, broker_down_s=3.0)

    @property
    def is_fleet(self) -> bool:
        return self.brokers > 1 or self.replicas > 1

    def faults(self) -> list[Fault]:
        if self.is_fleet:
            return fleet_sequence(
                broker_down_s=self.broker_down_s,
                service_down_s=self.service_down_s,
                replay_share=self.replay_share,
                # The last replica of each: the first one takes the drill's traffic.
                replicas=[
                    name if self.replicas == 1 else f"{name}-{self.replicas}" for name in SERVICES
                ],
            )
        return fault_sequence(
            broker_down_s=self.broker_down_s,
            service_down_s=self.service_down_s,
            replay_share=self.replay_share,
            services=list(SERVICES),
            broker_crash=self.broker_crash,
        )


@dataclass
class FaultRecord:
    name: str
    at_s: float
    took_s: float
    note: str


@dataclass
class DrainOutcome:
    drained: bool
    took_s: float
    last_status: dict[str, Any]


@dataclass
class DrillReport:
    run_id: str
    started_at: str
    took_s: float
    plan: dict[str, Any]
    services: dict[str, str]
    faults: list[FaultRecord]
    traffic: dict[str, Any]
    drain: DrainOutcome
    checks: list[CheckResult]
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return (
            self.drain.drained
            and not self.traffic["problems"]
            and not any(c.verdict.fails for c in self.checks)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "started_at": self.started_at,
            "took_s": round(self.took_s, 1),
            "plan": self.plan,
            "services": self.services,
            "faults": [asdict(f) for f in self.faults],
            "traffic": self.traffic,
            "drain": asdict(self.drain),
            "checks": [c.as_json() for c in self.checks],
            "figures": self.figures,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, default=str) + "\n")


class DrillSetupError(RuntimeError):
    """The drill cannot run as configured; the message says what to change."""


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_port_range(path: Path = EPHEMERAL_RANGE_FILE) -> range | None:
    """The ports the kernel hands to outgoing connections, or None where it does not say."""
    try:
        low, high = (int(word) for word in path.read_text().split())
    except (OSError, ValueError):
        return None
    return range(low, high + 1)


def ports_at_risk(ports: Mapping[str, int], ephemeral: range | None) -> list[str]:
    """Stack ports inside the ephemeral range. While the broker or the database is down, the
    clients retrying it may be given that very port as their own local port and connect to
    themselves (TCP simultaneous open); the server then cannot bind it again on restart."""
    if ephemeral is None:
        return []
    return [f"{name}={port}" for name, port in ports.items() if port in ephemeral]


# The drill's own stack unless the environment names one (scripts/drills.sh sets the same): never
# the stack of `make run`, and ports below the ephemeral range.
DRILL_STACK_DEFAULTS = {
    "DISPUTEDESK_STATE_DIR": str(find_repo_root() / ".state" / "drills"),
    "DISPUTEDESK_KAFKA_PORT": "27092",
    "DISPUTEDESK_PG_PORT": "27432",
    "DISPUTEDESK_SMTP_PORT": "27025",
}


def drill_stack_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The stack's own settings only (state folder, ports). External endpoints are dropped:
    the drill must be able to stop and kill the broker and the database it drills."""
    own = {k: v for k, v in environ.items() if k.startswith("DISPUTEDESK_")}
    return {**DRILL_STACK_DEFAULTS, **own}


class DrillRunner:
    def __init__(
        self,
        *,
        plan: DrillPlan,
        environ: Mapping[str, str] | None = None,
        console: Console | None = None,
    ) -> None:
        self.plan = plan
        self.environ = dict(os.environ if environ is None else environ)
        self.console = console or Console()
        self.stack = Stack.from_env(
            {**drill_stack_environ(self.environ), "DISPUTEDESK_KAFKA_BROKERS": str(plan.brokers)}
        )
        self.repo_root = find_repo_root()
        self.run_id = uuid.uuid4().hex[:8].upper()
        self.ledger = AcceptedLedger()
        self._phase = "starting"
        self._started = time.monotonic()

    # -- set-up ------------------------------------------------------------------------------

    def check_ports(self) -> None:
        settings = self.stack.settings
        brokers = {
            f"{node.name} port (DISPUTEDESK_KAFKA_PORT+{2 * (node.node_id - 1) + offset})": port
            for node in self.stack.kafka_nodes
            for offset, port in ((0, node.port), (1, node.controller_port))
        }
        risky = ports_at_risk(
            {**brokers, "DISPUTEDESK_PG_PORT": settings.pg_port}, ephemeral_port_range()
        )
        if risky:
            ephemeral = ephemeral_port_range()
            assert ephemeral is not None
            raise DrillSetupError(
                f"{', '.join(risky)} lie in the kernel's ephemeral port range "
                f"({ephemeral.start}-{ephemeral.stop - 1}): while the drill keeps the broker or "
                "the database down, a retrying client can be given that port for its own end "
                "and hold it, and the restart then fails with 'Address already in use'. "
                "Choose ports below the range (scripts/drills.sh defaults to 27092/27432)."
            )

    def _prepare(self) -> tuple[dict[str, str], dict[str, str], Path]:
        """Stack up, fresh drill databases at head, credentials, partners. Blocking."""
        from services.intake.partners.seeding import seed_dev_partners

        stack_env = dict(self.stack.up())
        self.stack.apply_topics(stack_env)
        stack_env.update(fresh_service_databases(self.stack, DRILL_DATABASE_PREFIX))
        folder = self.stack.settings.state_dir / CREDENTIALS_FOLDER
        # Fresh each run: the development clients plus a portal key for each drill seller.
        credentials.ensure(
            folder,
            force=True,
            clients=[*credentials.DEV_CLIENTS, *map(credentials.portal_client, DRILL_SELLERS)],
        )
        secrets = credentials.read_env(folder / credentials.CREDENTIALS_FILE)
        environ = {**self.environ, **credentials.at_rest_environment(self.environ, secrets)}
        asyncio.run(seed_dev_partners(stack_env["INTAKE_DATABASE_URL"], secrets, environ=environ))
        return stack_env, secrets, folder / credentials.KEYRING_FILE

    # -- the drill ---------------------------------------------------------------------------

    async def run(self) -> DrillReport:
        self.check_ports()
        started_at = datetime.now(UTC).isoformat()
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        with progress:
            task = progress.add_task("local stack, drill databases, partners")
            ticker = asyncio.create_task(self._tick(progress, task))
            try:
                report = await self._run(progress, started_at)
            finally:
                ticker.cancel()
            progress.update(task, description="done")
        return report

    def _status_line(self) -> str:
        ledger = self.ledger
        desk = ledger.desk
        return (
            f"{self._phase} · {ledger.stories} stories, {ledger.accepted_requests} accepted, "
            f"{ledger.total_retries} client retries · cases closed {desk['closed']}, "
            f"approvals {desk['approved']}, appeals {desk['appealed']}/"
            f"{desk['appeal decided']} decided"
        )

    async def _tick(self, progress: Progress, task: Any) -> None:
        """The live line, and the same as a log line every PROGRESS_EVERY_S (a log file or a
        CI job shows no live line, and the drill runs for minutes)."""
        last_said = time.monotonic()
        while True:
            progress.update(task, description=self._status_line())
            if time.monotonic() - last_said >= PROGRESS_EVERY_S:
                last_said = time.monotonic()
                self._say(progress, f"[dim]{self._status_line()}[/]")
            await asyncio.sleep(0.25)

    def _say(self, progress: Progress, text: str) -> None:
        elapsed = time.monotonic() - self._started
        progress.console.print(f"[dim]{elapsed:6.1f}s[/] {text}", highlight=False)

    async def _run(self, progress: Progress, started_at: str) -> DrillReport:
        self._phase = "bringing up the stack and drill databases"
        stack_env, secrets, keyring = await asyncio.to_thread(self._prepare)
        self._say(progress, f"stack ready in {self.stack.settings.state_dir}")

        env = service_environment(
            self.environ, stack_env, settings=self.stack.settings, repo_root=self.repo_root
        )
        env["DISPUTEDESK_KEYRING_FILE"] = str(keyring)
        # A dispatcher killed mid-send leaves its messages leased (`sending`) until the lease
        # runs out, when another dispatcher takes them over: 20 s instead of 5 min, so the
        # drill sees the take-over (sending one email takes milliseconds).
        env.setdefault("NOTIFICATIONS_DISPATCH_LEASE_S", "20")
        # The keys the partners were seeded with (the drill credentials' unless supplied).
        env.update(credentials.at_rest_environment(self.environ, secrets))
        fleet = ServiceFleet(
            drill_service_specs(
                self.environ, ephemeral=ephemeral_port_range(), replicas=self.plan.replicas
            ),
            env=env,
            cwd=self.repo_root,
            logs_dir=self.stack.settings.service_logs_dir,
        )
        self._phase = (
            "starting the four services"
            if self.plan.replicas == 1
            else f"starting {self.plan.replicas} replicas of each service"
        )
        faults: list[FaultRecord] = []
        try:
            await fleet.start_all()
            self._say(
                progress, "services ready: " + ", ".join(f"{n} {fleet.url(n)}" for n in fleet.names)
            )
            async with (
                httpx.AsyncClient(base_url=fleet.url("intake"), timeout=10.0) as http,
                httpx.AsyncClient(base_url=fleet.url("reconciliation"), timeout=10.0) as desk,
            ):
                client = DrillClient(
                    http,
                    credentials=Credentials.from_env(secrets, DRILL_SELLERS),
                    ledger=self.ledger,
                    give_up_after_s=self.plan.give_up_after_s,
                    desk=desk,
                )
                traffic = TrafficGenerator(client, plan=self.plan.traffic, run_id=self.run_id)
                traffic.follow_up = CaseFollowUp(
                    traffic,
                    poll_s=self.plan.traffic.poll_s,
                    give_up_after_s=self.plan.give_up_after_s,
                )
                flowing = asyncio.create_task(traffic.run(), name="traffic")
                self._phase = "traffic"
                await asyncio.sleep(self.plan.warmup_s)
                targets = DrillTargets(self.stack, fleet, traffic)
                try:
                    for fault in self.plan.faults():
                        self._phase = f"fault: {fault.name}"
                        began = time.monotonic()
                        note = await fault.inject(targets)
                        took = time.monotonic() - began
                        faults.append(
                            FaultRecord(
                                fault.name, round(began - self._started, 1), round(took, 1), note
                            )
                        )
                        self._say(progress, f"[yellow]{fault.name}[/] ({note}, {took:.1f}s)")
                        self._phase = "traffic"
                        await asyncio.sleep(self.plan.settle_s)
                except BaseException:
                    flowing.cancel()
                    await asyncio.gather(flowing, return_exceptions=True)
                    raise
                self._phase = "finishing started stories and following their cases to the end"
                traffic.stop()
                await flowing
            self._phase = "waiting for the pipeline to drain"
            dbs = ServiceDatabases({s: stack_env[f"{s.upper()}_DATABASE_URL"] for s in SERVICES})
            try:
                drain = await self._drain(dbs, stack_env["KAFKA_BOOTSTRAP_SERVERS"])
                self._say(
                    progress,
                    ("drained" if drain.drained else "[red]did not drain[/]")
                    + f" after {drain.took_s:.1f}s",
                )
                self._phase = "reconciling"
                prefix = f"DRL-{self.run_id}-"
                evidence = DrillEvidence(
                    ledger=self.ledger,
                    dbs=dbs,
                    run_prefix=prefix,
                    topic_ce_ids=await tally_topic(
                        stack_env["KAFKA_BOOTSTRAP_SERVERS"],
                        INTAKE_RETURNS.name,
                        key_prefix=prefix,
                    ),
                    mail_dir=Path(stack_env.get("MAIL_SINK_DIR", self.stack.settings.mail_dir)),
                )
                checks = await run_checks(evidence)
                figures = await money_path_figures(evidence)
            finally:
                await dbs.dispose()
        finally:
            self._phase = "stopping the services"
            await asyncio.to_thread(fleet.stop_all)
        return DrillReport(
            run_id=self.run_id,
            started_at=started_at,
            took_s=time.monotonic() - self._started,
            plan=asdict(self.plan),
            services={n: fleet.url(n) for n in fleet.names},
            faults=faults,
            traffic=self.ledger.summary(),
            drain=drain,
            checks=checks,
            figures=figures,
        )

    async def _drain(self, dbs: ServiceDatabases, bootstrap: str) -> DrainOutcome:
        """Until outboxes are empty, every consumer group has committed everything, no email
        waits, and the downstream counts stopped moving between two looks."""
        began = time.monotonic()
        previous: tuple[int, ...] | None = None
        status: dict[str, Any] = {}
        while True:
            try:
                outbox = await unpublished_outbox_rows(dbs)
                lag = await consumer_lag(bootstrap)
                counts = (
                    int(await dbs.scalar("fraud", "SELECT count(*) FROM assessments") or 0),
                    int(await dbs.scalar("reconciliation", "SELECT count(*) FROM cases") or 0),
                    int(
                        await dbs.scalar("reconciliation", "SELECT count(*) FROM case_timeline")
                        or 0
                    ),
                    int(await dbs.scalar("notifications", "SELECT count(*) FROM messages") or 0),
                    int(
                        await dbs.scalar(
                            "notifications",
                            "SELECT count(*) FROM messages WHERE status IN ('pending', 'sending')",
                        )
                        or 0
                    ),
                )
                status = {
                    "outbox_unpublished": outbox,
                    "consumer_lag": lag,
                    "assessments": counts[0],
                    "cases": counts[1],
                    "timeline": counts[2],
                    "messages": counts[3],
                    "messages_pending_or_sending": counts[4],
                }
                idle = not any(outbox.values()) and not any(lag.values()) and counts[4] == 0
                if idle and counts == previous:
                    return DrainOutcome(True, round(time.monotonic() - began, 1), status)
                previous = counts if idle else None
            except Exception as error:  # noqa: BLE001 — the broker or a database is coming back
                status = {"error": f"{type(error).__name__}: {error}"}
                previous = None
            if time.monotonic() - began > self.plan.drain_timeout_s:
                return DrainOutcome(False, round(time.monotonic() - began, 1), status)
            await asyncio.sleep(1.0)


# -- presentation ------------------------------------------------------------------------------

_VERDICT_STYLE = {
    Verdict.OK: "green",
    Verdict.LOST: "bold red",
    Verdict.DUPLICATED: "bold red",
    Verdict.MISMATCH: "bold red",
    Verdict.NOT_BUILT: "dim",
}


def render_report(report: DrillReport, console: Console) -> None:
    faults = Table(title=f"drill {report.run_id}: faults injected")
    for column in ("at", "fault", "took", "note"):
        faults.add_column(column)
    for f in report.faults:
        faults.add_row(f"{f.at_s:.1f}s", f.name, f"{f.took_s:.1f}s", f.note)
    console.print(faults)

    traffic = report.traffic
    sent = Table(title="traffic through intake's public API")
    for column in ("request", "distinct", "accepted", "2xx answers", "sends", "longest wait"):
        sent.add_column(column, justify="right")
    for kind, figures in traffic["requests"].items():
        sent.add_row(
            kind,
            str(figures["distinct"]),
            str(figures["accepted_distinct"]),
            str(figures["accepted_answers"]),
            str(figures["sends"]),
            f"{figures['longest_wait_s']:.1f}s",
        )
    console.print(sent)
    retries = ", ".join(f"{n} × {why}" for why, n in traffic["client_retries"].items()) or "none"
    redelivered = (
        ", ".join(f"{n} {kind}" for kind, n in traffic["deliberate_redeliveries"].items()) or "none"
    )
    console.print(f"client retries: {retries}", highlight=False)
    console.print(f"deliberate redeliveries: {redelivered}", highlight=False)
    for problem in traffic["problems"]:
        console.print(f"[red]refused or given up:[/] {problem}", highlight=False)

    checks = Table(title="reconciliation: accepted vs recorded")
    checks.add_column("check")
    checks.add_column("expected", justify="right")
    checks.add_column("found", justify="right")
    checks.add_column("verdict")
    checks.add_column("detail", overflow="fold")
    for c in report.checks:
        checks.add_row(
            c.name,
            "" if c.expected is None else str(c.expected),
            "" if c.found is None else str(c.found),
            f"[{_VERDICT_STYLE[c.verdict]}]{c.verdict.value}[/]",
            c.detail,
        )
    console.print(checks)
    if report.figures:
        money = Table(title=f"drill {report.run_id}: the money path")
        money.add_column("figure")
        money.add_column("count", justify="right")
        for label, value in report.figures.items():
            money.add_row(label, f"{value:,}")
        console.print(money)
    if not report.drain.drained:
        console.print(f"[red]The pipeline did not drain:[/] {report.drain.last_status}")
    verdict = "[bold green]PASSED[/]" if report.passed else "[bold red]FAILED[/]"
    console.print(f"drill {report.run_id} {verdict} in {report.took_s:.0f}s")
