"""Command line of the local stack: `disputedesk stack up|down|status` and `disputedesk run`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from disputedesk.stack.component import ComponentState, StackError
from disputedesk.stack.local_stack import Stack
from disputedesk.stack.reporting import ConsoleReporter
from disputedesk.stack.supervisor import run_services

stack_app = typer.Typer(
    help="Kafka, PostgreSQL and a mail sink for development and tests, run from a state "
    "folder (DISPUTEDESK_STATE_DIR, default .state/).",
    no_args_is_help=True,
)


def _component_names(stack: Stack) -> list[str]:
    return [component.name for component in stack.components]


@stack_app.command()
def up(
    timeout: Annotated[
        float,
        typer.Option(help="Seconds each component may take to start (Maven's fetch excluded)."),
    ] = 180.0,
    brokers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=9,
            help="Kafka brokers: 3 runs a KRaft cluster (ports DISPUTEDESK_KAFKA_PORT upward, "
            "two per broker). Default: as this state folder was last brought up, else 1.",
        ),
    ] = None,
) -> None:
    """Start Kafka, PostgreSQL and the mail sink unless running; write <state>/stack.env.

    Then create the topics with `disputedesk topics apply`."""
    console = Console()
    stack = Stack.from_env() if brokers is None else Stack.with_brokers(brokers)
    console.print(f"Local stack in [bold]{stack.settings.state_dir}[/]", soft_wrap=True)
    try:
        with ConsoleReporter(console, _component_names(stack)) as reporter:
            env = stack.up(timeout=timeout, reporter=reporter)
    except StackError as error:
        console.print(f"\n[red]The stack is not fully up:[/]\n{error}")
        raise typer.Exit(1) from None
    console.print(f"\nConnection settings in [bold]{stack.settings.env_file}[/]:")
    for key, value in env.items():
        console.print(f"  {key}={value}", highlight=False, soft_wrap=True)
    console.print(
        f"Load them with: [bold]set -a; . {stack.settings.env_file}; set +a[/]", soft_wrap=True
    )


@stack_app.command()
def down(
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL.")
    ] = 30.0,
) -> None:
    """Stop the local components (data is kept for the next `up`)."""
    console = Console()
    stack = Stack.from_env()
    try:
        with ConsoleReporter(console, _component_names(stack)) as reporter:
            stack.down(timeout=timeout, reporter=reporter)
    except StackError as error:
        console.print(f"\n[red]Not everything stopped:[/]\n{error}")
        raise typer.Exit(1) from None


@stack_app.command()
def status() -> None:
    """Show which components run, where, and since when."""
    console = Console()
    stack = Stack.from_env()
    table = Table(title=f"Local stack in {stack.settings.state_dir}")
    for column in ("component", "state", "endpoint", "pid", "up for"):
        table.add_column(column, no_wrap=True)
    table.add_column("log", overflow="fold")
    styles = {
        ComponentState.RUNNING: "green",
        ComponentState.STOPPED: "red",
        ComponentState.EXTERNAL: "cyan",
    }
    now = datetime.now(UTC)
    for component in stack.status():
        uptime = "" if component.started_at is None else _duration(now - component.started_at)
        table.add_row(
            component.name,
            Text(component.state.value, style=styles[component.state]),
            component.endpoint,
            "" if component.pid is None else str(component.pid),
            uptime,
            "" if component.log_path is None else str(component.log_path),
        )
    console.print(table)
    if stack.settings.env_file.exists():
        console.print(f"Connection settings: {stack.settings.env_file}")


def _duration(elapsed: timedelta) -> str:
    seconds = int(elapsed.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def run_command(
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            "-s",
            help="Run only these services (repeatable); default all four and the console.",
        ),
    ] = None,
    stack: Annotated[
        bool, typer.Option("--stack/--no-stack", help="Bring the local stack up first.")
    ] = True,
    echo_logs: Annotated[
        bool, typer.Option("--echo-logs", help="Also print the services' output, prefixed.")
    ] = False,
    health_timeout: Annotated[
        float, typer.Option(help="Seconds each service may take to answer /healthz.")
    ] = 90.0,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Once the services are healthy, send simulated marketplace traffic "
            "(`disputedesk simulate --demo`) until stopped.",
        ),
    ] = False,
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=9,
            help="Processes of each service; replica r listens on the service's port + 10(r-1).",
        ),
    ] = 1,
) -> None:
    """Run the four services with uvicorn against the local stack, restarting any that dies."""
    raise typer.Exit(
        run_services(
            services=service or None,
            ensure_stack=stack,
            echo_logs=echo_logs,
            health_timeout=health_timeout,
            demo=demo,
            replicas=replicas,
        )
    )
