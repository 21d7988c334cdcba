"""The table and the chart of a run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.e2e.settings import GOAL_P95_S, GOAL_PARTNER_EVENTS_PER_S, SERVICES

# Fewer escalations than this reaching their email in a step: no point on the chart.
MIN_COUNT_TO_PLOT = 10


def _fmt_s(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


# ---------------------------------------------------------------------------------------------
# Table and chart
# ---------------------------------------------------------------------------------------------


def _title(p: dict[str, Any]) -> str:
    return f"{p['mix']} mix, {p['replicas']} process{'es' if p['replicas'] > 1 else ''} per service"


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console

    # Wide enough for the step table even when the output is a log file, not a terminal.
    console = Console(width=max(Console().width, 160))
    passes = result.get("passes") or [
        {"mix": "even", "replicas": 1, "steps": result["steps"], "idle": result.get("idle", {})}
    ]
    for p in passes:
        console.rule(_title(p))
        _print_pass(console, p)
    if len(passes) > 1:
        _print_side_by_side(console, result.get("side_by_side", []))

    b = result["baselines"]
    console.print(
        f"baselines: Kafka round trip p50 {b['kafka']['round_trip']['p50_ms']} ms / p99 "
        f"{b['kafka']['round_trip']['p99_ms']} ms at {b['kafka']['offered_per_s']:g} msg/s, "
        f"{b['kafka']['saturated_messages_per_s']:,.0f} msg/s saturated; bare FastAPI "
        f"{b['bare_fastapi']['saturated_requests_per_s']:,.0f} req/s; PostgreSQL "
        f"{b['postgres']['commits_per_s_1_connection']:,.0f} commits/s (1 connection), "
        f"{b['postgres']['commits_per_s_8_connections']:,.0f} (8)"
    )
    machine = result["machine"]
    console.print(
        f"load average before / after: {machine.get('load_average_before')} / "
        f"{machine.get('load_average_after')} ({machine['note']})"
    )
    console.print(f"goal: {result['goal']}")


def _print_pass(console: Any, p: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"e2e ({_title(p)}) — escalation accepted → decision email")
    for col in (
        "offered ×goal",
        "partner ev/s + esc/s",
        "accepted req/s",
        "e2e p50",
        "p95",
        "p99",
        "done/missing",
        "esc. sent/planned",
        "scan→topic p95",
        "backlog slope",
        "sustained",
    ):
        table.add_column(col)
    for s in p["steps"]:
        e = s["escalation_to_decision_email"]
        scan = s["partner_event_to_intake_topic"]
        table.add_row(
            f"{s['multiplier']:g}×",
            f"{s['offered']['partner_events_per_s']:g} + {s['offered']['escalations_per_s']:g}",
            f"{s['accepted']['requests_per_s']:.0f}/{s['offered']['requests_per_s']:.0f}",
            _fmt_s(e["p50_ms"]),
            _fmt_s(e["p95_ms"]),
            _fmt_s(e["p99_ms"]),
            f"{e['count']}/{e['missing']}",
            f"{s['accepted']['offered_escalations']}/{s.get('plan', {}).get('escalations', '?')}",
            _fmt_s(scan["p95_ms"]),
            f"{s['backlog']['slope_messages_per_s']:+.1f}/s",
            "yes" if s["sustained"] else "no: " + "; ".join(s["not_sustained_because"]),
        )
    console.print(table)

    stages = Table(
        title="where the time goes — p50 / p95 from escalation accepted, or (⇢) "
        "from the escalation event's publication"
    )
    stages.add_column("offered")
    names = list(p["steps"][0]["escalation_stages"]) if p["steps"] else []
    for name in names:
        start, end = name.split("→", 1)
        stages.add_column(end if start == "accepted" else f"⇢ {end}")
    for s in p["steps"]:
        stages.add_row(
            f"{s['multiplier']:g}×",
            *(
                f"{_fmt_s(s['escalation_stages'][n]['p50_ms'])} / "
                f"{_fmt_s(s['escalation_stages'][n]['p95_ms'])}"
                for n in names
            ),
        )
    console.print(stages)

    cpu = Table(title="CPU per accepted request (ms, step start until drained) and cores in use")
    components = [*SERVICES, "kafka", "postgres", "load_generator"]
    for col in ("offered", *components, "system", "→ req/s on idle cores", "busy / others"):
        cpu.add_column(col)
    for s in p["steps"]:
        per = s["cpu_ms_per_request"]
        used = s["cpu_cores_used"]
        cpu.add_row(
            f"{s['multiplier']:g}×",
            *(f"{per.get(c, 0):.1f}" for c in components),
            f"{per.get('system_under_test', 0):.1f}",
            f"{per.get('projected_requests_per_s', 0):.0f}",
            f"{used.get('machine_busy_cores', 0):.2f} / {used.get('other_processes_cores', 0):.2f}",
        )
    idle = p.get("idle") or {}
    if idle:
        cores = idle["cores"]
        cpu.add_row(
            "idle",
            *(f"{cores.get(c, 0):.3f} cores" for c in components[:-1]),
            "",
            f"{idle['services_and_postgres_cores']:.3f} cores "
            f"({'≤' if idle['within_goal'] else '>'} {idle['goal_cores']:g})",
            "",
            f"{idle['machine_busy_cores']:.2f}",
        )
    console.print(cpu)
    commits = p.get("commits")
    if commits:  # runs before 2026-12-07 did not count them
        console.print(
            f"commits per accepted request (the warm-up, every step and the idle line; "
            f"{commits['accepted']:,} requests"
            + ("" if commits["complete"] else "; some backends had not ended: a low count")
            + "): "
            + " / ".join(f"{c} {commits.get(f'{c}_per_request', 0):.2f}" for c in SERVICES)
        )
    best = p.get("highest_sustained")
    console.print(
        "highest sustained: "
        + (
            f"{best['partner_events_per_s']:g} partner events/s + "
            f"{best['escalations_per_s']:g} escalations/s (×{best['multiplier']:g})"
            if best
            else "none of the steps"
        )
        + f"; p95 ≤ {GOAL_P95_S:g} s at every step up to ×1: "
        + ("yes" if p.get("p95_within_goal_up_to_1x") else "no")
    )
    if p.get("errors"):
        console.print(f"request errors: {p['errors']}")


def _print_side_by_side(console: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        return
    table = Table(
        title="side by side — escalation → decision email p50 / p95 / p99, accepted share, "
        "CPU per request and per event (system under test); × = ratio to the mix's first pass"
    )
    table.add_column("offered")
    heads = [(q["mix"], q["replicas"]) for q in rows[0]["passes"]]
    for mix, n in heads:
        table.add_column(f"{mix}, {n}×")
    for row in rows:
        cells = []
        for q in row["passes"]:
            cells.append(
                f"{_fmt_s(q['p50_ms'])} / {_fmt_s(q['p95_ms'])} / {_fmt_s(q['p99_ms'])}\n"
                f"{q['accepted_share']:.0%} accepted, CPU "
                f"{q['cpu_ms_per_request'] or 0:.1f} ms/req "
                f"{q.get('cpu_ms_per_event') or 0:.1f} ms/event"
                + (
                    f" (p95 ×{q['p95_to_first_pass_of_mix']}, CPU ×{q['cpu_to_first_pass_of_mix']})"
                    if q["replicas"] != rows[0]["passes"][0]["replicas"]
                    else ""
                )
            )
        table.add_row(f"{row['multiplier']:g}×", *cells)
    console.print(table)


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Escalation → decision email p95 (and p50, dashed) against offered rate, one line per
    pass (mix × processes per service), with the goal's 2 s line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    passes = result.get("passes") or [{"mix": "even", "replicas": 1, "steps": result["steps"]}]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, p in enumerate(passes):
        steps = p["steps"]
        x = [s["offered"]["partner_events_per_s"] for s in steps]
        colour = colours[n % len(colours)]
        for key, label, style in (("p95_ms", "p95", "s-"), ("p50_ms", "p50", "o--")):
            # A percentile of a handful of escalations (a starved intake answered few) would
            # draw a point that means nothing: such steps are left out of the line.
            y = [
                (s["escalation_to_decision_email"][key] or float("nan")) / 1000
                if s["escalation_to_decision_email"]["count"] >= MIN_COUNT_TO_PLOT
                else float("nan")
                for s in steps
            ]
            ax.plot(x, y, style, color=colour, label=f"{_title(p)}: {label}")
    ax.axhline(GOAL_P95_S, color="red", linestyle="--", label="goal: p95 ≤ 2 s")
    ax.axvline(GOAL_PARTNER_EVENTS_PER_S, color="red", linestyle=":", alpha=0.5)
    ax.set_xlabel(
        "offered partner events/s (escalations/s = 1/10 of it); steps with fewer than "
        f"{MIN_COUNT_TO_PLOT} escalations done are left out"
    )
    ax.set_ylabel("escalation → decision email (s)")
    ax.set_yscale("log")
    load = result.get("machine", {}).get("load_average_before")
    ax.set_title(
        "disputedesk end to end — latency against offered rate\n"
        f"({os.cpu_count()} cores shared with other work, {result['measured_at'][:16]} UTC"
        + (f", load average {load[0]:.1f}" if load else "")
        + ")"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
