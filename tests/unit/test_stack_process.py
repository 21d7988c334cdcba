"""Pid files: a stale or recycled pid never counts as a running component."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from disputedesk.stack.process import find_process, live_process, read_pid_file, write_pid_file


def test_pid_file_round_trip(tmp_path: Path) -> None:
    pid_file = tmp_path / "kafka.pid"
    write_pid_file(pid_file, 1234)

    assert read_pid_file(pid_file) == 1234
    assert read_pid_file(tmp_path / "absent.pid") is None


def test_garbage_pid_file_reads_as_no_pid(tmp_path: Path) -> None:
    pid_file = tmp_path / "kafka.pid"
    pid_file.write_text("not a pid")

    assert read_pid_file(pid_file) is None


def test_live_process_needs_the_marker_in_its_command_line() -> None:
    own_program = psutil.Process().cmdline()[0]

    assert live_process(os.getpid(), marker="/no/such/state/kafka/server.properties") is None
    assert live_process(os.getpid(), marker=own_program) is not None
    assert live_process(None, marker="x") is None


def test_stale_pid_file_is_removed(tmp_path: Path) -> None:
    pid_file = tmp_path / "mailsink.pid"
    write_pid_file(pid_file, os.getpid())  # alive, but not a mail sink

    assert find_process(pid_file, marker=str(tmp_path / "mail")) is None
    assert not pid_file.exists()
