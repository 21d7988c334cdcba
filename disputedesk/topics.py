"""`disputedesk topics apply|check`: the Kafka topics as an explicit, idempotent ops step.

Settings come from the environment (KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC_PARTITIONS,
KAFKA_TOPIC_REPLICATION_FACTOR, KAFKA_TOPIC_MIN_INSYNC_REPLICAS); what the environment leaves
unset comes from the local stack of DISPUTEDESK_STATE_DIR, so `stack up` then `topics apply`
needs nothing exported (3 and 2 on `stack up --brokers 3`, 1 and 1 on one broker).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

import typer
from rich.console import Console
from rich.table import Table

topics_app = typer.Typer(
    help="Kafka topics: create them (`apply`, idempotent) or check they exist (`check`).",
    no_args_is_help=True,
)

_VARIABLES = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_TOPIC_PARTITIONS",
    "KAFKA_TOPIC_REPLICATION_FACTOR",
    "KAFKA_TOPIC_MIN_INSYNC_REPLICAS",
)


def topic_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The four Kafka topic variables: the environment's, else the local stack's."""
    from disputedesk.stack import Stack

    environ = dict(os.environ if environ is None else environ)
    chosen = {name: environ[name] for name in _VARIABLES if environ.get(name)}
    if len(chosen) < len(_VARIABLES):
        stack_env = Stack.from_env(environ).env()
        for name in _VARIABLES:
            if name not in chosen and name in stack_env:
                chosen[name] = stack_env[name]
    chosen.setdefault("KAFKA_TOPIC_PARTITIONS", "6")
    return chosen


@topics_app.command()
def apply() -> None:
    """Create every missing topic (and its dead-letter twin) and set min.insync.replicas."""
    from shared.kafka.admin import apply_topics

    console = Console()
    settings = topic_settings()
    bootstrap = settings["KAFKA_BOOTSTRAP_SERVERS"]
    replication = int(settings.get("KAFKA_TOPIC_REPLICATION_FACTOR", "1"))
    min_isr = int(settings.get("KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "1"))
    partitions = int(settings["KAFKA_TOPIC_PARTITIONS"])
    if min_isr > replication:
        console.print(
            f"[red]min.insync.replicas {min_isr} is above the replication factor "
            f"{replication}: no write could ever be acknowledged.[/]"
        )
        raise typer.Exit(2)
    outcome = asyncio.run(
        apply_topics(
            bootstrap,
            partitions=partitions,
            replication_factor=replication,
            min_insync_replicas=min_isr,
        )
    )
    table = Table(
        title=f"Topics on {bootstrap}: {partitions} partitions, replication {replication}, "
        f"min.insync.replicas {min_isr}"
    )
    table.add_column("topic")
    table.add_column("outcome")
    for name in outcome.created:
        table.add_row(name, "[green]created[/]")
    for name in outcome.reconfigured:
        table.add_row(name, "min.insync.replicas set")
    for name in outcome.unchanged:
        table.add_row(name, "unchanged")
    console.print(table)
    for name, actual in outcome.replication_differs.items():
        console.print(
            f"[yellow]{name} has {actual} replica(s), not {replication}: Kafka changes that "
            "only by a partition reassignment (kafka-reassign-partitions), left to you.[/]"
        )


@topics_app.command()
def check() -> None:
    """Exit 1, naming them, when topics the services need are missing."""
    from shared.kafka.admin import MissingTopicsError, missing_topics

    console = Console()
    bootstrap = topic_settings()["KAFKA_BOOTSTRAP_SERVERS"]
    missing = asyncio.run(missing_topics(bootstrap))
    if missing:
        console.print(f"[red]{MissingTopicsError(missing)}[/]")
        raise typer.Exit(1)
    console.print(f"[green]✓[/] every topic exists on {bootstrap}")
