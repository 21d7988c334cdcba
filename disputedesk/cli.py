"""The `disputedesk` command: run the stack and the services, migrate, generate credentials."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from disputedesk import credentials
from disputedesk.stack.cli import run_command, stack_app
from disputedesk.topics import topics_app

app = typer.Typer(
    help="disputedesk: a marketplace's seller-return dispute desk.", no_args_is_help=True
)
console = Console()

SERVICES = ("intake", "fraud", "reconciliation", "notifications")
DEFAULT_PORTS = {"intake": 8001, "reconciliation": 8002, "fraud": 8003, "notifications": 8004}
# The desk console serves pages over the four services' APIs; `serve console` runs it alone.
WEB_APPS = {"console": 8005}


def _database_url(service: str) -> str:
    from importlib import import_module

    settings_cls = {
        "intake": "IntakeSettings",
        "fraud": "FraudSettings",
        "reconciliation": "ReconciliationSettings",
        "notifications": "NotificationsSettings",
    }[service]
    module = import_module(f"services.{service}.settings")
    return str(getattr(module, settings_cls)().database_url)


@app.command()
def migrate(
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only these services.")
    ] = None,
) -> None:
    """Upgrade each service's database to the newest schema."""
    from shared.migrations import upgrade

    # A migration that encrypts or seals existing rows reads the operator's keys from the
    # environment; in development, the state folder's.
    credentials.export_dev_keys(credentials.default_folder())
    for name in service or SERVICES:
        if name not in SERVICES:
            raise typer.BadParameter(f"unknown service {name!r}")
        with console.status(f"migrating {name}…"):
            upgrade(name, _database_url(name))
        console.print(f"[green]✓[/] {name} at head")


@app.command()
def serve(
    service: Annotated[
        str, typer.Argument(help="intake | fraud | reconciliation | notifications | console")
    ],
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Defaults to the service's usual port.")] = None,
) -> None:
    """Run one service with uvicorn."""
    import uvicorn

    from shared.http_protocol import HTTP_PROTOCOL, trusts_proxy_headers

    if service not in SERVICES and service not in WEB_APPS:
        raise typer.BadParameter(f"unknown service {service!r}")
    uvicorn.run(
        f"services.{service}.app:create_app",
        factory=True,
        http=HTTP_PROTOCOL,
        host=host,
        port=port or {**DEFAULT_PORTS, **WEB_APPS}[service],
        log_config=None,
        access_log=False,
        # X-Forwarded-For only from the proxies FORWARDED_ALLOW_IPS names (uvicorn reads it).
        proxy_headers=trusts_proxy_headers(os.environ),
    )


@app.command()
def asyncapi(
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print the AsyncAPI 3.0 document generated from the event models."""
    from shared.asyncapi import asyncapi_document

    text = json.dumps(asyncapi_document(), indent=2)
    if out:
        out.write_text(text + "\n")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


@app.command("case-states")
def case_states(
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite docs/case-states.md instead of printing.")
    ] = False,
) -> None:
    """Print the case state diagram (Mermaid) generated from the transition table."""
    from services.reconciliation.cases.transitions import document

    text = document()
    if write:
        out = Path(__file__).resolve().parents[1] / "docs" / "case-states.md"
        out.write_text(text)
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text)


@app.command("dev-credentials")
def dev_credentials(
    out: Annotated[
        Path | None, typer.Option(help="Folder for keyring.json and dev-credentials.env.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Regenerate even if they exist.")] = False,
) -> None:
    """Generate development API keys and partner secrets (once; kept in a git-ignored folder)."""
    folder = out or credentials.default_folder()
    made = credentials.ensure(folder, force=force)
    verb = "generated" if made else "kept existing"
    console.print(f"{verb} credentials in {folder / credentials.CREDENTIALS_FILE}")


@app.command("seed-partners")
def seed_partners(
    credentials_file: Annotated[
        Path | None,
        typer.Option("--credentials", help="A dev-credentials.env; default: the state folder's."),
    ] = None,
) -> None:
    """Register the development partners and their secrets in intake's database (idempotent)."""
    from services.intake.partners.seeding import seed_dev_partners

    if credentials_file is None:
        folder = credentials.default_folder()
        credentials.ensure(folder)
        credentials_file = folder / credentials.CREDENTIALS_FILE
    secrets = credentials.read_env(credentials_file)
    environ = {**os.environ, **credentials.at_rest_environment(os.environ, secrets)}
    asyncio.run(seed_dev_partners(_database_url("intake"), secrets, environ=environ))
    console.print("[green]✓[/] partners registered")


@app.command("reencrypt-partner-secrets")
def reencrypt_partner_secrets() -> None:
    """Re-encrypt partner secrets made with a retired key under the current one (the step
    between putting a new key first in DISPUTEDESK_SECRETS_KEYS and dropping the old one)."""
    from services.intake.partners.secrets import PartnerSecrets, reencrypt_all
    from shared.db import make_engine, make_sessionmaker

    credentials.export_dev_keys(credentials.default_folder())
    secrets = PartnerSecrets.from_environment()

    async def run() -> int:
        engine = make_engine(_database_url("intake"), pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await reencrypt_all(session, secrets=secrets)
        finally:
            await engine.dispose()

    changed = asyncio.run(run())
    key_id = secrets.box.current_key_id
    console.print(f"[green]✓[/] {changed} partner secret(s) re-encrypted with key {key_id}")


@app.command()
def drill(
    short: Annotated[
        bool, typer.Option("--short", help="A quick drill (about two minutes), as CI runs it.")
    ] = False,
    stories_per_s: Annotated[
        float | None, typer.Option(help="Returns started per second (each: feed, scans, dispute).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the JSON result.")] = Path(
        "bench-results/drills.json"
    ),
    brokers: Annotated[
        int,
        typer.Option(
            min=1,
            max=9,
            help="Kafka brokers of the drill's stack; with 3 the drill kills the broker "
            "leading the busiest partitions instead of stopping the only one.",
        ),
    ] = 1,
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=9,
            help="Processes of each service; with 2 the drill kills one replica of each and "
            "restarts every process in turn (a rolling restart).",
        ),
    ] = 1,
) -> None:
    """Fault drill: real traffic while Kafka, PostgreSQL and each service fail in turn, then
    prove from every service's database that nothing accepted was lost or duplicated.

    With --brokers 3 --replicas 2 it drills the fleet instead: the broker leading the busiest
    partitions killed, one replica of each service killed, a rolling restart of every process,
    a partner replay; the same reconciliation afterwards.

    Runs on its own stack: .state/drills with Kafka 27092, PostgreSQL 27432 and SMTP 27025,
    unless DISPUTEDESK_STATE_DIR and DISPUTEDESK_*_PORT say otherwise."""
    import dataclasses

    from disputedesk.drills.runner import DrillPlan, DrillRunner, DrillSetupError, render_report

    plan = DrillPlan.short() if short else DrillPlan()
    plan = dataclasses.replace(plan, brokers=brokers, replicas=replicas)
    if stories_per_s is not None:
        plan = dataclasses.replace(
            plan, traffic=dataclasses.replace(plan.traffic, stories_per_s=stories_per_s)
        )
    try:
        report = asyncio.run(DrillRunner(plan=plan, console=console).run())
    except DrillSetupError as error:
        console.print(f"[red]Cannot drill:[/] {error}")
        raise typer.Exit(2) from None
    render_report(report, console)
    report.write_json(out)
    console.print(f"wrote {out}")
    raise typer.Exit(0 if report.passed else 1)


@app.command()
def replay(
    partner: Annotated[
        str | None, typer.Option("--partner", "-p", help="Only this partner's requests.")
    ] = None,
) -> None:
    """Re-run archived partner requests whose scans were unmapped (after adding a mapping).

    Safe to repeat: deduplication means no canonical event is emitted twice.
    """
    from services.intake.partners.service import replay_unmapped
    from shared.clock import SystemClock
    from shared.db import make_engine, make_sessionmaker

    async def run() -> None:
        engine = make_engine(_database_url("intake"), pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                result = await replay_unmapped(session, partner_id=partner, now=SystemClock().now())
        finally:
            await engine.dispose()
        console.print(
            f"replayed {result.requests_replayed} request(s): "
            f"{result.events_emitted} event(s) emitted, {result.scans_resolved} scan(s) resolved"
        )

    asyncio.run(run())


@app.command()
def report(
    week_of: Annotated[
        str | None,
        typer.Option(help="Any day (YYYY-MM-DD) of the week to report; this week by default."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the workbook; management-pack-<week>.xlsx.")
    ] = None,
) -> None:
    """Write the weekly management pack (XLSX with charts) and print its headline figures and
    the recurring problems found, from reconciliation's database."""
    from datetime import UTC, date, datetime

    from rich.table import Table

    from services.reconciliation.reports.service import management_pack
    from services.reconciliation.reports.workbook import HEADLINE, MONEY, render
    from shared.db import make_engine, make_sessionmaker

    try:
        day = date.fromisoformat(week_of) if week_of else datetime.now(UTC).date()
    except ValueError:
        console.print(f"[red]--week-of must be a date (YYYY-MM-DD), not {week_of!r}[/]")
        raise typer.Exit(2) from None

    async def run() -> None:
        engine = make_engine(_database_url("reconciliation"), pool_size=1)
        try:
            with console.status("Reading 12 weeks of cases and building the workbook…"):
                async with make_sessionmaker(engine)() as session:
                    pack = await management_pack(session, day=day)
                body = render(pack)
        finally:
            await engine.dispose()
        target = out or Path(f"management-pack-{pack.week_start.isoformat()}.xlsx")
        target.write_bytes(body)
        table = Table(title=f"Week of {pack.week_start.isoformat()}")
        for column in ("figure", "this week", "week before"):
            table.add_column(column, justify="left" if column == "figure" else "right")

        def shown(key: str, value: object) -> str:
            if isinstance(value, int) and key in MONEY:
                return f"₹{value / 100:,.2f}"
            return "—" if value is None else str(value)

        for key, label in HEADLINE:
            table.add_row(
                label, shown(key, pack.this_week.get(key)), shown(key, pack.last_week.get(key))
            )
        console.print(table)
        for p in pack.problems:
            console.print(
                f"[yellow]{p['dimension']} {p['value']}[/]: {p['cases']} cases "
                f"({p['ratio']}× baseline, p={p['p_value']}) — {p['recommendation']}"
            )
        if not pack.problems:
            console.print("No recurring problem rose above its baseline this week.")
        console.print(f"wrote {target}")

    asyncio.run(run())


@app.command("preview-email")
def preview_email(
    template: Annotated[str, typer.Argument(help="Template name; omit to list them.")] = "",
    html: Annotated[bool, typer.Option(help="Print the HTML part instead of the text.")] = False,
) -> None:
    """Show a notification template rendered with realistic sample data."""
    from services.notifications.catalogue.registry import TEMPLATES, preview
    from services.notifications.settings import NotificationsSettings

    if template not in TEMPLATES:
        if template:
            console.print(f"[red]no template {template!r}[/]")
        for info in TEMPLATES.values():
            console.print(f"{info.name:20} {info.audience:10} {info.description}")
        raise typer.Exit(1 if template else 0)
    rendered = preview(template, NotificationsSettings())
    sys.stdout.write(f"Subject: {rendered.subject}\n\n{rendered.html if html else rendered.text}")


@app.command("fraud-world")
def fraud_world(
    seed: Annotated[
        list[int] | None,
        typer.Option(help="World seed (repeatable); 101 and 202 by default."),
    ] = None,
    scale: Annotated[
        float, typer.Option(min=0.02, max=4.0, help="Volume: 1.0 is about 5,000 returns.")
    ] = 1.0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for each seed's table and JSON report.")
    ] = None,
    port_base: Annotated[
        int | None,
        typer.Option(
            help="The services listen on this + 1 (intake) … + 5 (console); without it on "
            "<NAME>_PORT or free ports."
        ),
    ] = None,
    settle_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the pipeline to settle.")
    ] = 1800.0,
) -> None:
    """A fraud world written from the specification alone, through the public APIs of a real
    stack, scored per pattern (docs/fraud-detection-journal.md, "A world written from the
    specification alone")."""
    from disputedesk.fraudworld.runner import run_seeds

    run_seeds(
        seed or [101, 202],
        scale=scale,
        out=out,
        port_base=port_base,
        settle_timeout_s=settle_timeout,
    )


@app.command("fraud-eval")
def fraud_eval(
    seeds: Annotated[int, typer.Option(help="How many seeds (1, 2, … n) to simulate.")] = 3,
    days: Annotated[
        int | None,
        typer.Option(
            help="Simulated days per seed (56 by default; with --ranges, cuts each drawn "
            "world to at most this many days, the same world through the pipeline and "
            "--direct)."
        ),
    ] = None,
    returns_per_day: Annotated[
        float | None,
        typer.Option(
            help="Honest returns per simulated day (22 by default; with --ranges, replaces "
            "each drawn world's volume)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the JSON table and ground truth.")] = Path(
        "bench-results/fraud-eval"
    ),
    rate: Annotated[
        float | None,
        typer.Option(help="Pace intake requests at this many per second (latency runs)."),
    ] = None,
    all_partners: Annotated[
        bool,
        typer.Option(
            "--all-partners",
            help="Returns go to swiftship, rapidroute and desipost, not only "
            "swiftship (a different world, so figures differ from the default's).",
        ),
    ] = False,
    direct: Annotated[
        bool,
        typer.Option(
            help="Score each world straight through fraud's scoring (no intake, "
            "no Kafka): the same table in a fraction of the time."
        ),
    ] = False,
    clean_traffic: Annotated[
        bool,
        typer.Option(
            "--clean-traffic",
            help="Through the pipeline, send every scan once, in order, at its time "
            "(rapidroute in hourly windows), instead of as partners send: 5 % of messages "
            "twice, 5 % of returns with a scan after its successor, rapidroute in batches "
            "of 50-500 at least every six hours.",
        ),
    ] = False,
    ranges: Annotated[
        str | None,
        typer.Option(
            help="Draw each seed's marketplace from ranges (intensity, volumes, "
            "partner mix, claim mix, look-alikes, duration), on the 'dev' seeds "
            "or the 'held-out' ones (the first --seeds of the set), or on the "
            "'wide' set (wider ranges of every dimension, its own seeds), the 'beyond' "
            "set (thinner volumes, few or many sellers a category, skewed values, one claim "
            "type dominant, abusers at 2.5-3x; its own seeds), or 'dev-low', "
            "'held-out-low', 'wide-low' (those worlds with every claim abuser at 2.5x); "
            "prints power curves."
        ),
    ] = None,
) -> None:
    """Simulate traffic with planted fraud through intake → Kafka → fraud; print detection quality.

    Uses the stack named by the DISPUTEDESK_* environment (default state folder .state/eval), with
    fresh eval_intake / eval_fraud databases per seed.
    """
    from dataclasses import replace

    from disputedesk.simulate import Marketplace
    from disputedesk.simulate.evaluation import CLEAN_TRAFFIC, PARTNER_TRAFFIC, evaluate
    from disputedesk.simulate.marketplace import SWIFTSHIP_ONLY, THREE_PARTNERS
    from disputedesk.simulate.report import print_report

    # swiftship alone by default, so that detection figures stay comparable between runs.
    market = Marketplace(
        days=days or 56, partners=THREE_PARTNERS if all_partners else SWIFTSHIP_ONLY
    )
    market = replace(market, honest=replace(market.honest, returns_per_day=returns_per_day or 22.0))
    state = Path(os.environ.get("DISPUTEDESK_STATE_DIR", ".state/eval")).resolve()

    def progress(seed: int, table: dict[str, object]) -> None:
        console.print(f"seed {seed} done: {table['_run']}")

    seed_list = list(range(1, seeds + 1))
    chosen: Marketplace | Callable[[int], Marketplace] = market
    if ranges is not None:
        from disputedesk.simulate.ranges import RANGE_SETS, draw_market

        if ranges not in RANGE_SETS:
            raise typer.BadParameter("--ranges is one of " + ", ".join(RANGE_SETS))
        seed_set, drawn_from = RANGE_SETS[ranges]
        seed_list = list(seed_set[:seeds])

        def drawn_world(seed: int) -> Marketplace:
            # A shorter or thinner world of the same draw: the pipeline is slow on a loaded
            # machine, and comparing it with --direct needs only the same world both ways.
            drawn = draw_market(seed, drawn_from)
            if days is not None:
                drawn = replace(drawn, days=min(days, drawn.days))
            if returns_per_day is not None:
                drawn = replace(
                    drawn, honest=replace(drawn.honest, returns_per_day=returns_per_day)
                )
            return drawn

        chosen = drawn_world
    if direct:
        from disputedesk.simulate.direct import evaluate_directly

        report = asyncio.run(
            evaluate_directly(seed_list, chosen, out_dir=out, state_dir=state, progress=progress)
        )
    else:
        report = asyncio.run(
            evaluate(
                seed_list,
                chosen,
                out_dir=out,
                state_dir=state,
                progress=progress,
                rate=rate,
                traffic=CLEAN_TRAFFIC if clean_traffic else PARTNER_TRAFFIC,
            )
        )
    print_report(report, console)
    console.print(f"wrote {out / ('fraud-eval-direct.json' if direct else 'fraud-eval.json')}")


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="Same seed (and tag), same marketplace.")] = 1,
    sellers: Annotated[int, typer.Option(min=16, help="Planted fraud needs at least 16.")] = 60,
    buyers: Annotated[int, typer.Option(min=150)] = 1500,
    days: Annotated[int, typer.Option(min=1, help="Simulated days of returns.")] = 14,
    returns_per_day: Annotated[float, typer.Option(help="Honest returns per simulated day.")] = (
        22.0
    ),
    rate: Annotated[
        float, typer.Option(min=0.1, help="Requests per second offered, on average.")
    ] = 20.0,
    redeliver_fraction: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of partner messages sent twice.")
    ] = 0.05,
    out_of_order_fraction: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of returns with a scan sent after the next."),
    ] = 0.05,
    feedback_fraction: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of escalations followed by feedback.")
    ] = 0.3,
    ground_truth: Annotated[
        Path | None,
        typer.Option(help="Write the planted fraudsters and events here (JSON)."),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            help="A small marketplace at about 3 requests/s, round after round until Ctrl-C "
            "(or --duration)."
        ),
    ] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    tag: Annotated[
        str | None,
        typer.Option(
            help="Part of this run's ids (default: seed and clock, so runs never collide)."
        ),
    ] = None,
    intake_url: Annotated[
        str | None, typer.Option(help="Default: INTAKE_URL, else http://127.0.0.1:$INTAKE_PORT.")
    ] = None,
    credentials_file: Annotated[
        Path | None,
        typer.Option(
            "--credentials",
            help="A dev-credentials.env (default: the state folder's, as `make run` writes it).",
        ),
    ] = None,
) -> None:
    """Simulated marketplace traffic against the running services (start them with `make run`):
    the return feed, all three partners' webhooks (with redeliveries and out-of-order scans),
    seller escalations with evidence and feedback, honest sellers and planted fraud."""
    import time as _time
    from dataclasses import replace

    from disputedesk.simulate.command import IntakeUnreachable, default_intake_url, load_secrets
    from disputedesk.simulate.command import simulate as run_simulation
    from disputedesk.simulate.live import SimulationSettings, demo_settings
    from disputedesk.simulate.traffic import TrafficOptions

    # Seed and second of starting: two runs at once (say a demo and a manual run) never share ids.
    run_tag = tag or f"S{seed}T{int(_time.time()) % 100_000_000}"
    traffic = TrafficOptions(
        redeliver_fraction=redeliver_fraction,
        out_of_order_fraction=out_of_order_fraction,
        feedback_fraction=feedback_fraction,
    )
    if demo:
        settings = replace(demo_settings(seed, run_tag), traffic=traffic)
    else:
        settings = SimulationSettings(
            seed=seed,
            sellers=sellers,
            buyers=buyers,
            days=days,
            returns_per_day=returns_per_day,
            rate=rate,
            traffic=traffic,
            tag=run_tag,
        )
    try:
        secrets = load_secrets(credentials_file)
    except FileNotFoundError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    try:
        tally = asyncio.run(
            run_simulation(
                settings,
                intake_url=intake_url or default_intake_url(),
                secrets=secrets,
                ground_truth=ground_truth,
                console=console,
                demo=demo,
                duration_s=duration,
            )
        )
    except IntakeUnreachable as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    raise typer.Exit(1 if tally.unreachable and not tally.total_accepted else 0)


app.add_typer(stack_app, name="stack")
app.add_typer(topics_app, name="topics")
app.command("run")(run_command)

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
