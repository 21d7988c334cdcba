"""`disputedesk run`: the four services as uvicorn processes against the local stack, watched
and restarted when one dies, and stopped together on Ctrl-C or SIGTERM.

The services are started by module path only; this module never imports them, so a service
that does not import cleanly shows up as a crash in its log, not as a crash of the runner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from disputedesk.stack.component import StackError
from disputedesk.stack.config import StackSettings, find_repo_root, parse_env_file
from disputedesk.stack.local_stack import Stack
from disputedesk.stack.ports import is_free
from disputedesk.stack.reporting import ConsoleReporter

DEFAULT_SERVICE_PORTS: dict[str, int] = {
    "intake": 8001,
    "reconciliation": 8002,
    "fraud": 8003,
    "notifications": 8004,
}
# Web apps over the services' APIs (no database, no Kafka): started with them by default, but
# not part of `service_specs`, whose four services are what the drills crash and count.
WEB_APP_PORTS: dict[str, int] = {"console": 8005}
# A service that stayed up this long before dying is considered healthy again: its next
# restart is immediate instead of backing off further.
_STABLE_AFTER_S = 30.0
_MAX_RESTART_DELAY_S = 30.0
_STOP_TIMEOUT_S = 10.0
# Replica r of a service listens on its port + REPLICA_PORT_STEP * (r - 1): 8001, 8011, 8021…
REPLICA_PORT_STEP = 10


@dataclass(frozen=True)
class ServiceSpec:
    """One service as uvicorn serves it."""

    name: str
    port: int
    host: str = "127.0.0.1"
    # 1 for the first (or only) process of the service, 2… for the further replicas.
    replica: int = 1

    @property
    def label(self) -> str:
        """`intake` for the first replica, `intake-2` for the second: log file and console name."""
        return self.name if self.replica == 1 else f"{self.name}-{self.replica}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(
        self, python: str = sys.executable, environ: Mapping[str, str] | None = None
    ) -> list[str]:
        from shared.http_protocol import HTTP_PROTOCOL, trusts_proxy_headers

        return [
            python,
            "-m",
            "uvicorn",
            f"services.{self.name}.app:create_app",
            "--factory",
            # Malformed requests and oversized headers answered as problem+json (shared/).
            "--http",
            HTTP_PROTOCOL,
            # As `disputedesk serve` runs them: uvicorn's access log formats and writes a line
            # per request (CPU on every request, and a URL's query in plain text); the RED
            # metrics count requests, and our structured log says what matters.
            "--no-access-log",
            # The client's address is the connection's peer unless FORWARDED_ALLOW_IPS names
            # the proxies (the process's environment, where uvicorn reads it).
            "--proxy-headers"
            if trusts_proxy_headers(os.environ if environ is None else environ)
            else "--no-proxy-headers",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]


def service_specs(
    environ: Mapping[str, str], names: Sequence[str] | None = None, *, replicas: int = 1
) -> list[ServiceSpec]:
    """The services to run, each on `<NAME>_PORT` from the environment or its default port,
    and `replicas` processes of each, the further ones REPLICA_PORT_STEP ports apart."""
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, not {replicas}")
    chosen = list(DEFAULT_SERVICE_PORTS) if not names else list(dict.fromkeys(names))
    unknown = [name for name in chosen if name not in DEFAULT_SERVICE_PORTS]
    if unknown:
        raise ValueError(
            f"unknown service(s) {', '.join(unknown)}; "
            f"choose from {', '.join(DEFAULT_SERVICE_PORTS)}"
        )
    specs: list[ServiceSpec] = []
    for name in chosen:
        variable = f"{name.upper()}_PORT"
        raw = environ.get(variable, "").strip()
        if not raw:
            specs.append(ServiceSpec(name, DEFAULT_SERVICE_PORTS[name]))
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise ValueError(f"{variable}={raw!r} is not a TCP port (1-65535)")
        specs.append(ServiceSpec(name, int(raw)))
    specs = [
        ServiceSpec(spec.name, spec.port + REPLICA_PORT_STEP * (replica - 1), replica=replica)
        for spec in specs
        for replica in range(1, replicas + 1)
    ]
    if any(spec.port > 65535 for spec in specs):
        raise ValueError("a replica's port would lie above 65535; choose lower <NAME>_PORT")
    ports = [spec.port for spec in specs]
    if len(set(ports)) != len(ports):
        raise ValueError(f"two services would share a port: {ports}")
    return specs


def run_specs(
    environ: Mapping[str, str], names: Sequence[str] | None = None, *, replicas: int = 1
) -> list[ServiceSpec]:
    """What `disputedesk run` starts: the four services and the web apps by default, or the
    named ones (services and web apps alike), each on `<NAME>_PORT` or its default port.
    `replicas` applies to the four services; a web app holds no state and runs once."""
    chosen = list(dict.fromkeys(names)) if names else None
    apis = None if chosen is None else [n for n in chosen if n not in WEB_APP_PORTS]
    specs = service_specs(environ, apis, replicas=replicas) if apis is None or apis else []
    for name, default_port in WEB_APP_PORTS.items():
        if chosen is not None and name not in chosen:
            continue
        variable = f"{name.upper()}_PORT"
        raw = environ.get(variable, "").strip() or str(default_port)
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise ValueError(f"{variable}={raw!r} is not a TCP port (1-65535)")
        specs.append(ServiceSpec(name, int(raw)))
    ports = [spec.port for spec in specs]
    if len(set(ports)) != len(ports):
        raise ValueError(f"two services would share a port: {ports}")
    return specs


def service_environment(
    base: Mapping[str, str],
    stack_env: Mapping[str, str],
    *,
    settings: StackSettings,
    repo_root: Path,
) -> dict[str, str]:
    """The environment of every service process: the caller's, then stack.env on top (it
    already honours external endpoints given in the environment), then the keyring file."""
    env = dict(base)
    env.update(stack_env)
    env.setdefault("DISPUTEDESK_KEYRING_FILE", str(settings.keyring_file))
    env["DISPUTEDESK_STATE_DIR"] = str(settings.state_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), base.get("PYTHONPATH")]))
    # Log lines should reach the log file as they happen, not when a buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def restart_delay(consecutive_failures: int) -> float:
    """Seconds to wait before restarting a service that died `consecutive_failures` times in
    a row shortly after starting: 0, 1, 2, 4, ... up to 30."""
    if consecutive_failures <= 1:
        return 0.0
    return min(_MAX_RESTART_DELAY_S, 2.0 ** (consecutive_failures - 2))


def app_module_exists(repo_root: Path, name: str) -> bool:
    """True when services/<name>/app.py (or an app package) is there to be served."""
    service_dir = repo_root / "services" / name
    return (service_dir / "app.py").is_file() or (service_dir / "app" / "__init__.py").is_file()


@dataclass
class SupervisedService:
    """A service process and its restart bookkeeping."""

    spec: ServiceSpec
    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    consecutive_failures: int = 0
    restart_at: float | None = None
    healthy: bool = False
    ever_healthy: bool = False
    _log_offset: int = field(default=0, repr=False)

    def start(self) -> None:
        self.process = _spawn_logged(
            self.spec.command(environ=self.env), cwd=self.cwd, env=self.env, log_path=self.log_path
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        self.healthy = False

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def check_health(self, client: httpx.Client) -> bool:
        try:
            response = client.get(f"{self.spec.base_url}/healthz")
        except httpx.HTTPError:
            self.healthy = False
        else:
            self.healthy = response.status_code == 200
        self.ever_healthy = self.ever_healthy or self.healthy
        return self.healthy

    def stop(self) -> None:
        """SIGTERM the service's process group (uvicorn finishes requests and lifespan),
        SIGKILL it if it is still there after the timeout."""
        _stop_group(self.process, signal.SIGTERM)


def _spawn_logged(
    command: list[str], *, cwd: Path, env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """A child whose output goes to the end of its log file, in its own process group: the
    terminal's Ctrl-C reaches only the runner, which then stops every child in order instead
    of all dying at once."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop_group(process: subprocess.Popen[bytes] | None, first: signal.Signals) -> None:
    """Send `first` to a running child's process group, SIGKILL it if it is still there after
    the timeout."""
    if process is None or process.poll() is not None:
        return
    _signal_group(process.pid, first)
    try:
        process.wait(timeout=_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_group(pid: int, signal_number: signal.Signals) -> None:
    try:
        os.killpg(pid, signal_number)
    except ProcessLookupError:
        pass


class DemoTraffic:
    """`disputedesk simulate --demo` as a child process: started once every service is healthy,
    interrupted (so it prints its summary) before the services stop."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        intake_url: str,
        credentials_file: Path,
    ) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.intake_url = intake_url
        self.credentials_file = credentials_file
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, python: str = sys.executable) -> list[str]:
        return [
            python,
            "-m",
            "disputedesk.cli",
            "simulate",
            "--demo",
            "--intake-url",
            self.intake_url,
            "--credentials",
            str(self.credentials_file),
        ]

    def start(self) -> None:
        if self.process is not None:
            return
        self.process = _spawn_logged(
            self.command(), cwd=self.cwd, env=self.env, log_path=self.log_path
        )

    def stop(self) -> None:
        # SIGINT, not SIGTERM: the simulator prints its summary when interrupted.
        _stop_group(self.process, signal.SIGINT)


class _StopRequest:
    """Turns SIGINT/SIGTERM into a flag the supervision loop checks."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers; the caller stops us otherwise
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            self._previous[signal_number] = signal.signal(signal_number, self._handle)

    def restore(self) -> None:
        for signal_number, handler in self._previous.items():
            signal.signal(signal_number, handler)  # type: ignore[arg-type]

    def _handle(self, signal_number: int, frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signal_number).name
        self.event.set()


class _LogEcho:
    """Prints new lines of the services' log files, prefixed with the service name."""

    def __init__(self, console: Console, services: Sequence[SupervisedService]) -> None:
        self._console = console
        self._services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-echo", daemon=True)

    def start(self) -> None:
        for service in self._services:
            service._log_offset = (
                service.log_path.stat().st_size if service.log_path.exists() else 0
            )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for service in self._services:
                self._echo_new_lines(service)

    def _echo_new_lines(self, service: SupervisedService) -> None:
        try:
            with service.log_path.open("rb") as log:
                log.seek(service._log_offset)
                chunk = log.read()
        except FileNotFoundError:
            return
        complete, _, _ = chunk.rpartition(b"\n")
        if not complete:
            return
        service._log_offset += len(complete) + 1
        for line in complete.decode("utf-8", errors="replace").splitlines():
            self._console.print(
                f"[cyan]{service.spec.label:<16}[/]| {escape(line)}", highlight=False
            )


def run_services(
    *,
    settings: StackSettings | None = None,
    services: Sequence[str] | None = None,
    ensure_stack: bool = True,
    echo_logs: bool = False,
    health_timeout: float = 90.0,
    console: Console | None = None,
    demo: bool = False,
    replicas: int = 1,
) -> int:
    """Run the services until SIGINT/SIGTERM; returns the process exit code. With `demo`,
    simulated marketplace traffic flows into intake once every service is healthy. With
    `replicas` > 1, that many processes of each service (consumer groups, outbox relays,
    timers and dispatchers share the work; see docs/operations.md)."""
    console = console or Console()
    settings = settings or StackSettings()
    repo_root = find_repo_root()

    try:
        specs = run_specs(os.environ, services, replicas=replicas)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        return 2
    missing = [spec.name for spec in specs if not app_module_exists(repo_root, spec.name)]
    if missing:
        console.print(
            f"[red]No app module for: {', '.join(missing)}[/] (expected services/<name>/app.py "
            "with create_app). Run the others with --service."
        )
        return 1
    taken = [spec for spec in specs if not is_free(spec.host, spec.port)]
    if taken:
        for spec in taken:
            console.print(
                f"[red]Port {spec.port} for {spec.label} is taken[/] (another `disputedesk run`?). "
                f"Stop it, or set {spec.name.upper()}_PORT."
            )
        return 1

    if ensure_stack:
        stack = Stack(settings)
        try:
            with ConsoleReporter(console, [c.name for c in stack.components]) as reporter:
                stack.up(reporter=reporter)
            # Services check their topics and create none (`disputedesk topics apply`).
            stack.apply_topics()
        except StackError as error:
            console.print(f"[red]The local stack did not come up:[/]\n{error}")
            return 1
    elif not settings.env_file.is_file():
        console.print(
            f"[red]{settings.env_file} does not exist.[/] Run `disputedesk stack up` first, "
            "or leave out --no-stack."
        )
        return 1

    _ensure_dev_credentials(settings, console)
    stack_env = parse_env_file(settings.env_file.read_text(encoding="utf-8"))
    env = service_environment(os.environ, stack_env, settings=settings, repo_root=repo_root)
    supervised = [
        SupervisedService(
            spec=spec,
            env=env,
            cwd=repo_root,
            log_path=settings.service_logs_dir / f"{spec.label}.log",
        )
        for spec in specs
    ]
    intake_spec = next((spec for spec in specs if spec.name == "intake"), None)
    traffic = (
        DemoTraffic(
            env=env,
            cwd=repo_root,
            log_path=settings.service_logs_dir / "simulate.log",
            intake_url=intake_spec.base_url,
            credentials_file=settings.dev_credentials_file,
        )
        if demo and intake_spec is not None
        else None
    )

    def start_traffic() -> None:
        if traffic is not None:
            traffic.start()
            console.print(
                f"Demo traffic: `disputedesk simulate --demo` → {traffic.intake_url} "
                f"(progress and summary in {traffic.log_path})",
                highlight=False,
            )

    stop_request = _StopRequest()
    stop_request.install()
    echo = _LogEcho(console, supervised) if echo_logs else None
    try:
        if echo is not None:
            echo.start()
        for service in supervised:
            service.start()
        console.print(f"Starting {', '.join(spec.label for spec in specs)}…")
        _supervise(
            supervised,
            stop_request=stop_request,
            health_timeout=health_timeout,
            console=console,
            settings=settings,
            stack_env=stack_env,
            on_all_healthy=start_traffic,
        )
    finally:
        if traffic is not None:
            traffic.stop()
        console.print("Stopping services…")
        for service in supervised:
            if service.process is not None and service.process.poll() is None:
                _signal_group(service.process.pid, signal.SIGTERM)
        for service in supervised:
            service.stop()
        if echo is not None:
            echo.stop()
        stop_request.restore()
    console.print(f"Stopped ({stop_request.signal_name or 'done'}).")
    return 0


def _ensure_dev_credentials(settings: StackSettings, console: Console) -> None:
    # The services refuse every request without a keyring; generate the development one
    # (and the matching plaintext keys) on first run. Imported here because it pulls in the
    # shared auth code, which the stack commands themselves do not need.
    from disputedesk import credentials

    if credentials.ensure(settings.state_dir):
        console.print(f"Generated development credentials in {settings.dev_credentials_file}")
    # The services need keys for data at rest; keys the operator set in the environment win.
    credentials.export_dev_keys(settings.state_dir)


def _supervise(
    supervised: Sequence[SupervisedService],
    *,
    stop_request: _StopRequest,
    health_timeout: float,
    console: Console,
    settings: StackSettings,
    stack_env: Mapping[str, str],
    on_all_healthy: Callable[[], None] | None = None,
) -> None:
    health_deadline = time.monotonic() + health_timeout
    summary_shown = False
    healthy_once = False
    with httpx.Client(timeout=1.0) as client:
        while not stop_request.event.wait(0.5):
            now = time.monotonic()
            for service in supervised:
                _restart_if_dead(service, now=now, console=console)
                # Polled only until healthy after each start: afterwards a crash shows as an
                # exit, and steady polling would fill the access logs.
                alive = service.process is not None and service.exit_code() is None
                newly_healthy = alive and not service.healthy and service.check_health(client)
                if newly_healthy and summary_shown:
                    console.print(f"[green]{service.spec.label} is healthy[/]")
            all_healthy = all(service.healthy for service in supervised)
            if not summary_shown and (all_healthy or now >= health_deadline):
                _print_summary(supervised, console=console, settings=settings, stack_env=stack_env)
                summary_shown = True
            if all_healthy and not healthy_once:
                healthy_once = True
                if on_all_healthy is not None:
                    on_all_healthy()


def _restart_if_dead(service: SupervisedService, *, now: float, console: Console) -> None:
    code = service.exit_code()
    if code is None:
        return
    if service.restart_at is None:
        lived = now - service.started_at
        service.consecutive_failures = (
            1 if lived >= _STABLE_AFTER_S else service.consecutive_failures + 1
        )
        delay = restart_delay(service.consecutive_failures)
        service.restart_at = now + delay
        service.healthy = False
        console.print(
            f"[yellow]{service.spec.label} exited with code {code} after {lived:.1f}s; "
            f"restarting{f' in {delay:.0f}s' if delay else ''}[/] (log: {service.log_path})"
        )
    if now >= service.restart_at:
        service.restarts += 1
        service.start()
        console.print(f"{service.spec.label} restarted (restart #{service.restarts})")


def _print_summary(
    supervised: Sequence[SupervisedService],
    *,
    console: Console,
    settings: StackSettings,
    stack_env: Mapping[str, str],
) -> None:
    # Three narrow columns fit an 80-column terminal with every URL whole (URLs are copied from
    # here); the docs and metrics paths, the same for every service, go under the table.
    table = Table(
        title="disputedesk services",
        caption="Swagger UI: <URL>/docs   metrics: <URL>/metrics",
    )
    table.add_column("service", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("URL", no_wrap=True)
    for service in supervised:
        state = "[green]healthy[/]" if service.healthy else "[red]not healthy yet[/]"
        # A browser app's page is the address to open; it has no API docs or metrics.
        url = service.spec.base_url
        table.add_row(
            service.spec.label, state, f"{url}/" if service.spec.name in WEB_APP_PORTS else url
        )
    console.print(table)
    for service in supervised:
        if service.spec.name in WEB_APP_PORTS:
            console.print(
                f"Desk console: {service.spec.base_url}/ (sign in with a desk key)",
                highlight=False,
                soft_wrap=True,
            )
    # Paths stay on one line (soft wrap): a path broken by a newline cannot be pasted.
    console.print(
        f"Logs: {settings.service_logs_dir}/<service>.log", highlight=False, soft_wrap=True
    )
    credentials = settings.dev_credentials_file
    console.print(
        f"Dev credentials: {credentials}"
        + ("" if credentials.exists() else " [dim](not written yet)[/]"),
        highlight=False,
        soft_wrap=True,
    )
    mail_dir = stack_env.get("MAIL_SINK_DIR")
    smtp = f"{stack_env.get('SMTP_HOST', '?')}:{stack_env.get('SMTP_PORT', '?')}"
    console.print(
        f"Mail: {mail_dir} (SMTP {smtp})" if mail_dir else f"Mail: external SMTP {smtp}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"Stack settings: {settings.env_file}", highlight=False, soft_wrap=True)
    console.print("Press Ctrl-C to stop.")
