"""What `disputedesk simulate` does around the live run: credentials, the progress bar, demo
rounds and the closing summary."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from disputedesk import credentials
from disputedesk.simulate.live import (
    LiveRun,
    SimulationSettings,
    prepare,
    send_plan,
    write_ground_truth,
)
from disputedesk.simulate.outbound import Reply, Tally
from disputedesk.simulate.traffic import Send

LOG_EVERY_S = 30.0
SECRET_NAMES = (
    "DISPUTEDESK_KEY_MARKETPLACE",
    "DISPUTEDESK_KEY_OPS_AGENT",
    "SWIFTSHIP_SECRET",
    "RAPIDROUTE_SECRET",
    "DESIPOST_API_KEY",
)


def default_intake_url() -> str:
    port = os.environ.get("INTAKE_PORT") or 8001
    return os.environ.get("INTAKE_URL") or f"http://127.0.0.1:{port}"


def load_secrets(path: Path | None) -> dict[str, str]:
    """The development credentials `make run` wrote, with any of them overridden from the
    environment."""
    file = path or credentials.default_folder() / credentials.CREDENTIALS_FILE
    secrets = credentials.read_env(file) if file.is_file() else {}
    secrets.update({k: os.environ[k] for k in SECRET_NAMES if os.environ.get(k)})
    missing = [k for k in SECRET_NAMES if not secrets.get(k)]
    if missing:
        raise FileNotFoundError(
            f"no {', '.join(missing)} in {file} or the environment; start the services with "
            "`make run` first (it writes the development credentials), or pass --credentials"
        )
    return secrets


class IntakeUnreachable(RuntimeError):
    pass


async def check_intake(client: httpx.AsyncClient) -> None:
    """Fail fast with a useful message instead of retrying thousands of requests."""
    try:
        response = await client.get("/healthz")
    except httpx.HTTPError as error:
        raise IntakeUnreachable(
            f"intake does not answer at {client.base_url} ({type(error).__name__}); start the "
            "services with `make run`, or point --intake-url at them"
        ) from error
    if response.status_code != 200:
        raise IntakeUnreachable(
            f"intake at {client.base_url} is not healthy (/healthz {response.status_code})"
        )


def print_summary(tally: Tally, console: Console, *, seconds: float) -> None:
    table = Table(title=f"simulated traffic, {tally.total_sent} requests in {seconds:.0f} s")
    for column in (
        "request",
        "sent",
        "accepted",
        "redelivered",
        "new events",
        "duplicates",
        "rejected",
    ):
        table.add_column(column, justify="right" if column != "request" else "left")
    rejected_by: dict[str, int] = {}
    for key, n in tally.rejected.items():
        name = key.split(":", 1)[0]
        rejected_by[name] = rejected_by.get(name, 0) + n
    for name in sorted(tally.sent):
        webhook = name.startswith("webhook/")
        table.add_row(
            name,
            str(tally.sent[name]),
            str(tally.accepted[name]),
            str(tally.redeliveries[name]) if webhook else "",
            f"{tally.events_accepted[name]}/{tally.expected_new[name]}" if webhook else "",
            str(tally.duplicates[name]) if webhook else "",
            str(rejected_by.get(name, 0)),
        )
    console.print(table)
    if tally.unreachable:
        console.print(f"[red]{tally.unreachable} request(s) never reached intake[/]")
    for reason, n in tally.rejected.most_common(10):
        console.print(f"  [yellow]rejected ×{n}[/] {reason}", highlight=False)
    for name, n in sorted((+tally.held).items()):
        console.print(
            f"  [yellow]held ×{n}[/] {name}: sent before the feed announced the return",
            highlight=False,
        )
    for name, n in sorted((+tally.refused).items()):
        console.print(
            f"  [red]refused ×{n}[/] {name}: scans of shipments not the partner's", highlight=False
        )
    console.print(
        "new events: canonical events intake made / partner events sent for the "
        "first time; duplicates: partner events intake recognised as already seen"
    )


async def simulate(
    settings: SimulationSettings,
    *,
    intake_url: str,
    secrets: dict[str, str],
    ground_truth: Path | None,
    console: Console,
    demo: bool = False,
    duration_s: float | None = None,
) -> Tally:
    tally = Tally()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if duration_s is not None:
        loop.call_later(duration_s, stop.set)
    started = time.monotonic()
    next_line = [started + LOG_EVERY_S]
    runs: list[tuple[LiveRun, SimulationSettings]] = []
    round_settings = settings
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "sent {task.fields[sent]} · accepted {task.fields[accepted]} · "
            "rejected {task.fields[rejected]}"
        ),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    async with httpx.AsyncClient(base_url=intake_url, timeout=30.0) as client:
        await check_intake(client)
        with progress:
            while True:
                run = prepare(round_settings)
                runs.append((run, round_settings))
                if ground_truth is not None:
                    write_ground_truth(ground_truth, runs)
                plan = run.plan
                if not console.is_terminal:
                    console.print(
                        f"seed {round_settings.seed}, tag {round_settings.tag}: "
                        f"{len(plan.sends)} requests over about "
                        f"{run.clock_map.wall_seconds:.0f} s",
                        highlight=False,
                    )
                task = progress.add_task(
                    f"seed {round_settings.seed}",
                    total=len(plan.sends),
                    sent=tally.total_sent,
                    accepted=tally.total_accepted,
                    rejected=tally.total_rejected,
                )

                def advance(
                    send: Send,
                    reply: Reply | None,
                    task: int = task,
                    seed: int = round_settings.seed,
                ) -> None:
                    progress.update(
                        task,
                        advance=1,
                        sent=tally.total_sent,
                        accepted=tally.total_accepted,
                        rejected=tally.total_rejected,
                    )
                    # A log file shows no live bar: a line now and then instead.
                    if not console.is_terminal and time.monotonic() >= next_line[0]:
                        next_line[0] = time.monotonic() + LOG_EVERY_S
                        console.print(
                            f"seed {seed}: sent {tally.total_sent}, accepted "
                            f"{tally.total_accepted}, rejected {tally.total_rejected}",
                            highlight=False,
                        )

                await send_plan(
                    run,
                    client,
                    secrets,
                    tally=tally,
                    concurrency=round_settings.concurrency,
                    progress=advance,
                    stop=stop,
                )
                if not demo or stop.is_set():
                    break
                # The next round: a fresh world, its ids apart from the last one's.
                next_seed = round_settings.seed + 1
                round_settings = replace(
                    round_settings, seed=next_seed, tag=f"{settings.tag}r{len(runs)}"
                )
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)
    print_summary(tally, console, seconds=time.monotonic() - started)
    if ground_truth is not None:
        console.print(f"ground truth in {ground_truth}")
    return tally
