"""Which services `disputedesk run` starts, on which ports, with which environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from disputedesk.stack.config import StackSettings
from disputedesk.stack.supervisor import (
    ServiceSpec,
    SupervisedService,
    _print_summary,
    restart_delay,
    service_environment,
    service_specs,
)


def test_default_ports() -> None:
    assert service_specs({}) == [
        ServiceSpec("intake", 8001),
        ServiceSpec("reconciliation", 8002),
        ServiceSpec("fraud", 8003),
        ServiceSpec("notifications", 8004),
    ]


def test_ports_and_selection_from_environment() -> None:
    specs = service_specs({"FRAUD_PORT": "9103"}, ["fraud", "intake", "fraud"])

    assert specs == [ServiceSpec("fraud", 9103), ServiceSpec("intake", 8001)]


def test_replicas_of_each_service_listen_ten_ports_apart() -> None:
    specs = service_specs({"FRAUD_PORT": "9103"}, ["intake", "fraud"], replicas=3)

    assert [(s.label, s.port) for s in specs] == [
        ("intake", 8001),
        ("intake-2", 8011),
        ("intake-3", 8021),
        ("fraud", 9103),
        ("fraud-2", 9113),
        ("fraud-3", 9123),
    ]


def test_replica_ports_must_not_collide_with_another_service() -> None:
    # INTAKE_PORT=8012 puts intake's first replica on reconciliation's second one.
    with pytest.raises(ValueError, match="share a port"):
        service_specs({"INTAKE_PORT": "8012"}, ["intake", "reconciliation"], replicas=2)


@pytest.mark.parametrize(
    ("environ", "names", "message"),
    [
        ({"INTAKE_PORT": "http"}, None, "INTAKE_PORT"),
        ({"INTAKE_PORT": "70000"}, None, "INTAKE_PORT"),
        ({}, ["billing"], "billing"),
        ({"FRAUD_PORT": "8001"}, None, "share a port"),
    ],
)
def test_bad_choices_are_explained(
    environ: dict[str, str], names: list[str] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        service_specs(environ, names)


def test_uvicorn_command_uses_the_app_factory() -> None:
    command = ServiceSpec("intake", 8001).command("/venv/bin/python", environ={})

    assert command == [
        "/venv/bin/python",
        "-m",
        "uvicorn",
        "services.intake.app:create_app",
        "--factory",
        "--http",
        "shared.http_protocol:ProblemHttpProtocol",
        "--no-access-log",
        "--no-proxy-headers",
        "--host",
        "127.0.0.1",
        "--port",
        "8001",
    ]


def test_service_environment_layers_stack_env_and_keyring(tmp_path: Path) -> None:
    settings = StackSettings(state_dir=tmp_path)
    env = service_environment(
        {"PATH": "/usr/bin", "KAFKA_BOOTSTRAP_SERVERS": "stale:1", "PYTHONPATH": "/extra"},
        {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", "SMTP_HOST": "127.0.0.1"},
        settings=settings,
        repo_root=Path("/repo"),
    )

    assert env["PATH"] == "/usr/bin"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert env["DISPUTEDESK_KEYRING_FILE"] == str(tmp_path / "keyring.json")
    assert env["PYTHONPATH"] == "/repo:/extra"


def test_an_explicit_keyring_file_is_kept(tmp_path: Path) -> None:
    env = service_environment(
        {"DISPUTEDESK_KEYRING_FILE": "/secrets/ring.json"},
        {},
        settings=StackSettings(state_dir=tmp_path),
        repo_root=Path("/repo"),
    )

    assert env["DISPUTEDESK_KEYRING_FILE"] == "/secrets/ring.json"


def test_restart_backs_off_for_a_crashing_service() -> None:
    assert [restart_delay(n) for n in range(1, 9)] == [0, 1, 2, 4, 8, 16, 30, 30]


def test_demo_traffic_runs_the_simulator_and_is_interrupted_to_print_its_summary(
    tmp_path: Path,
) -> None:
    import sys
    import time

    from disputedesk.stack.supervisor import DemoTraffic

    traffic = DemoTraffic(
        env={},
        cwd=tmp_path,
        log_path=tmp_path / "logs" / "simulate.log",
        intake_url="http://127.0.0.1:8001",
        credentials_file=tmp_path / "dev-credentials.env",
    )
    command = traffic.command("python")
    assert command[1:5] == ["-m", "disputedesk.cli", "simulate", "--demo"]
    assert command[command.index("--intake-url") + 1] == "http://127.0.0.1:8001"
    assert command[command.index("--credentials") + 1] == str(tmp_path / "dev-credentials.env")

    # A stand-in simulator that reports how it was stopped.
    script = (
        "import signal, sys, time\n"
        "def done(*_):\n    print('summary after SIGINT', flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGINT, done)\nprint('ready', flush=True)\ntime.sleep(30)\n"
    )
    traffic.command = lambda python=sys.executable: [python, "-c", script]  # type: ignore[method-assign]
    traffic.start()
    deadline = time.monotonic() + 10
    while "ready" not in traffic.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    traffic.stop()
    assert traffic.process is not None and traffic.process.returncode == 0
    assert "summary after SIGINT" in traffic.log_path.read_text()


def test_service_table_fits_an_80_column_terminal_with_every_url_whole(tmp_path: Path) -> None:
    settings = StackSettings(state_dir=tmp_path)
    supervised = [
        SupervisedService(spec, env={}, cwd=tmp_path, log_path=tmp_path / f"{spec.name}.log")
        for spec in service_specs({})
    ]
    supervised[0].healthy = True  # both states, so the state column takes its widest value
    console = Console(width=80, record=True, color_system=None)

    _print_summary(supervised, console=console, settings=settings, stack_env={})

    output = console.export_text().splitlines()
    lines = output[: next(n for n, line in enumerate(output) if line.startswith("Logs:"))]
    assert all(len(line) <= 80 for line in lines)
    for spec in service_specs({}):
        assert any(spec.base_url in line for line in lines), spec.base_url
    assert any("<URL>/docs" in line and "<URL>/metrics" in line for line in lines)
    assert f"Logs: {tmp_path}/logs/<service>.log" in output  # whole, to be pasted


def test_run_starts_the_console_with_the_four_services() -> None:
    from disputedesk.stack.supervisor import run_specs

    assert run_specs({})[-1] == ServiceSpec("console", 8005)
    assert [s.name for s in run_specs({})[:4]] == [s.name for s in service_specs({})]
    assert run_specs({"CONSOLE_PORT": "9105"}, ["console"]) == [ServiceSpec("console", 9105)]
    assert [s.name for s in run_specs({}, ["intake"])] == ["intake"]
    with pytest.raises(ValueError, match="share a port"):
        run_specs({"CONSOLE_PORT": "8001"})
