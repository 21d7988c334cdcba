"""Starting, finding and stopping the detached processes of the local stack.

A component is "running" when its pid file names a live process whose command line still
carries the component's marker (a path unique to the state folder): a pid file left behind
by a crash, or a pid the kernel has since handed to another program, counts as stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil


def read_pid_file(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def write_pid_file(path: Path, pid: int) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(f"{pid}\n", encoding="ascii")
    partial.replace(path)


def live_process(pid: int | None, *, marker: str) -> psutil.Process | None:
    """The process `pid` if it is alive (not a zombie) and `marker` is in its command line."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            # Our own child that died and was not reaped yet (tests keep the parent alive).
            _reap(process)
            return None
        if not any(marker in argument for argument in process.cmdline()):
            return None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return process


def find_process(pid_file: Path, *, marker: str) -> psutil.Process | None:
    """The live process a pid file names; a stale pid file is removed."""
    process = live_process(read_pid_file(pid_file), marker=marker)
    if process is None:
        pid_file.unlink(missing_ok=True)
    return process


def spawn_detached(
    argv: Sequence[str],
    *,
    log_path: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output appended to `log_path`, so that Ctrl-C in the
    terminal that ran `stack up`, or the end of that terminal, leaves it running."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def terminate(process: psutil.Process, *, timeout: float) -> bool:
    """SIGTERM, then SIGKILL once `timeout` has passed; True if SIGKILL was needed."""
    try:
        process.send_signal(signal.SIGTERM)
    except psutil.NoSuchProcess:
        return False
    if wait_gone(process, timeout=timeout):
        return False
    kill(process)
    return True


def kill(process: psutil.Process, *, with_children: bool = False) -> None:
    """SIGKILL the process (and its children), and wait until it is gone."""
    try:
        victims = [*process.children(recursive=True), process] if with_children else [process]
    except psutil.NoSuchProcess:
        return
    for victim in victims:
        try:
            victim.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    for victim in victims:
        wait_gone(victim, timeout=10)


def wait_gone(process: psutil.Process, *, timeout: float) -> bool:
    """Wait until the process has exited; True if it did within `timeout`.

    A zombie counts as gone: it holds no ports or files any more, and the detached servers
    are orphans that only init may reap, which some container inits do only every few seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                _reap(process)
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _reap(process: psutil.Process) -> None:
    try:
        os.waitpid(process.pid, os.WNOHANG)
    except ChildProcessError:
        pass


def log_tail(path: Path, *, lines: int = 15) -> str:
    """The last lines of a log, for error messages that say why a start failed."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - 16_384))
            text = log.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
