"""The `disputedesk` command line: the local stack (`stack up|down|status`) and `run`."""

from __future__ import annotations

import typer

from disputedesk.stack.cli import run_command, stack_app

app = typer.Typer(help="Seller-return dispute desk: development commands.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.command("run")(run_command)

if __name__ == "__main__":
    app()
