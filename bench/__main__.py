"""`python -m bench [SECTION ...]`: run benchmarks against the stack in $DISPUTEDESK_STATE_DIR,
print a table per section and write bench-results/<section>.json.

Every figure is reported beside a baseline measured in the same run, because this machine is
shared and noisy: absolute numbers move, ratios much less.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
# Sections in the order they run; a section whose module is absent is reported as such.
SECTIONS = [
    "backbone",
    "intake",
    "reconciliation",
    "notifications",
    "fraud",
    "fraud_latency",
    "e2e",
    # py-spy flame graphs of each service under one e2e step (bench/profile.py).
    "profile",
    "console",
]


def _stack_env() -> dict[str, str]:
    from disputedesk.stack import Stack

    stack = Stack.from_env()
    env = dict(stack.up())
    stack.apply_topics(env)
    db = "bench"
    stack.postgres.drop_database(db)
    stack.postgres.create_database(db)
    env["BENCH_DATABASE_URL"] = stack.postgres.database_url(db)
    env["BENCH_STACK"] = "1"
    return env


def _print_backbone(console: Console, result: dict[str, Any]) -> None:
    table = Table(
        title=f"backbone — {result['events_per_round']} events × {result['rounds']} rounds"
    )
    for col in ("path", "best events/s", "all rounds", "ratio to raw"):
        table.add_column(col)
    for key in ("raw", "outbox", "consumer"):
        ratio = "1.00 (baseline)" if key == "raw" else f"{result['ratio_to_raw'][key]:.2f}"
        table.add_row(
            key,
            f"{result['best_per_s'][key]:,.0f}",
            ", ".join(f"{r:,.0f}" for r in result["rates_per_s"][key]),
            ratio,
        )
    console.print(table)
    console.print(f"goal: {result['goal']}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("sections", nargs="*", default=SECTIONS)
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 10000)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 2)))
    args = parser.parse_args()
    console = Console()
    env = _stack_env()
    os.environ.update(env)
    RESULTS.mkdir(exist_ok=True)
    failures = 0
    for section in args.sections:
        try:
            module = importlib.import_module(f"bench.{section}")
        except ModuleNotFoundError:
            console.print(f"[yellow]{section}: no benchmark module yet[/]")
            continue
        console.rule(section)
        try:
            if section == "backbone":
                result = asyncio.run(module.run(env, n=args.events, rounds=args.rounds))
                _print_backbone(console, result)
            else:
                result = module.main(env)  # each section prints its own table
        except Exception as exc:  # one broken section must not hide the others' figures
            failures += 1
            console.print(f"[red]{section} failed: {exc!r}[/]")
            continue
        (RESULTS / f"{section}.json").write_text(json.dumps(result, indent=2, default=str))
        console.print(f"wrote {RESULTS / (section + '.json')}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
