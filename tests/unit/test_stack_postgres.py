"""Settings, socket placement and database-name checks of the local PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest

from disputedesk.stack.postgres import (
    MAX_SOCKET_PATH,
    ServerConfig,
    check_database_name,
    read_pid_file_first_line,
    render_server_conf,
    socket_dir_for,
)


def test_server_conf_keeps_durability_and_allows_many_connections() -> None:
    conf = render_server_conf(ServerConfig(port=55433, socket_dir=Path("/state/postgres/run")))

    assert "port = 55433" in conf
    assert "listen_addresses = '127.0.0.1'" in conf
    assert "unix_socket_directories = '/state/postgres/run'" in conf
    assert "fsync = on" in conf
    assert "synchronous_commit = on" in conf
    assert "max_connections = 300" in conf
    assert "shared_buffers = '256MB'" in conf


def test_socket_lives_in_the_state_folder_when_the_path_is_short() -> None:
    assert socket_dir_for(Path("/work/main/.state"), 55432) == Path(
        "/work/main/.state/postgres/run"
    )


def test_socket_moves_to_temp_when_the_state_path_is_too_long(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)

    socket_dir = socket_dir_for(deep, 55432)

    assert len(str(socket_dir / ".s.PGSQL.55432")) < MAX_SOCKET_PATH
    assert socket_dir == socket_dir_for(deep, 55432)  # stable across calls
    assert socket_dir != socket_dir_for(tmp_path / ("e" * 120), 55432)


@pytest.mark.parametrize("name", ["intake", "test_fraud", "_x1"])
def test_plain_database_names_pass(name: str) -> None:
    assert check_database_name(name) == name


@pytest.mark.parametrize("name", ["", "Intake", "1abc", 'x"; DROP DATABASE y; --', "a-b", "a" * 64])
def test_other_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_database_name(name)


def test_postmaster_pid_is_the_first_line(tmp_path: Path) -> None:
    pid_file = tmp_path / "postmaster.pid"
    pid_file.write_text("4242\n/state/postgres/data\n1700000000\n55432\n")

    assert read_pid_file_first_line(pid_file) == 4242
    assert read_pid_file_first_line(tmp_path / "missing.pid") is None
