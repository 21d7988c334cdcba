"""The table and the chart of a run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.e2e.settings import GOAL_P95_S, GOAL_PARTNER_EVENTS_PER_S, SERVICES


def _fmt_s(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


# ---------------------------------------------------------------------------------------------
# Table and chart
# ---------------------------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    # Wide enough for the step table even when the output is a log file, not a terminal.
    console = Console(width=max(Console().width, 160))
    table = Table(title="e2e — escalation accepted → decision email, per offered rate")
    for col in (
        "offered ×goal",
        "partner ev/s + esc/s",
        "accepted req/s",
        "e2e p50",
        "p95",
        "p99",
        "done/missing",
        "scan→topic p95",
        "backlog slope",
        "sustained",
    ):
        table.add_column(col)
    for s in result["steps"]:
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
    names = list(result["steps"][0]["escalation_stages"]) if result["steps"] else []
    for name in names:
        start, end = name.split("→", 1)
        stages.add_column(end if start == "accepted" else f"⇢ {end}")
    for s in result["steps"]:
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
    for s in result["steps"]:
        per = s["cpu_ms_per_request"]
        used = s["cpu_cores_used"]
        cpu.add_row(
            f"{s['multiplier']:g}×",
            *(f"{per.get(c, 0):.1f}" for c in components),
            f"{per.get('system_under_test', 0):.1f}",
            f"{per.get('projected_requests_per_s', 0):.0f}",
            f"{used.get('machine_busy_cores', 0):.2f} / {used.get('other_processes_cores', 0):.2f}",
        )
    console.print(cpu)

    b = result["baselines"]
    console.print(
        f"baselines: Kafka round trip p50 {b['kafka']['round_trip']['p50_ms']} ms / p99 "
        f"{b['kafka']['round_trip']['p99_ms']} ms at {b['kafka']['offered_per_s']:g} msg/s, "
        f"{b['kafka']['saturated_messages_per_s']:,.0f} msg/s saturated; bare FastAPI "
        f"{b['bare_fastapi']['saturated_requests_per_s']:,.0f} req/s; PostgreSQL "
        f"{b['postgres']['commits_per_s_1_connection']:,.0f} commits/s (1 connection), "
        f"{b['postgres']['commits_per_s_8_connections']:,.0f} (8)"
    )
    console.print(f"ratios: {result['ratios']}")
    best = result["highest_sustained"]
    console.print(
        "highest sustained: "
        + (
            f"{best['partner_events_per_s']:g} partner events/s + "
            f"{best['escalations_per_s']:g} escalations/s (×{best['multiplier']:g})"
            if best
            else "none of the steps"
        )
    )
    if result["errors"]:
        console.print(f"request errors: {result['errors']}")
    console.print(f"goal: {result['goal']} — {'met' if result['goal_met'] else 'NOT met'}")
    console.print(f"({result['machine']['note']})")


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Latency percentiles against offered rate, with the goal's 2 s line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = result["steps"]
    x = [s["offered"]["partner_events_per_s"] for s in steps]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for key, label, style in (
        ("p50_ms", "p50", "o-"),
        ("p95_ms", "p95", "s-"),
        ("p99_ms", "p99", "^-"),
    ):
        y = [(s["escalation_to_decision_email"][key] or float("nan")) / 1000 for s in steps]
        ax.plot(x, y, style, label=f"escalation → decision email {label}")
    scan = [(s["partner_event_to_intake_topic"]["p95_ms"] or float("nan")) / 1000 for s in steps]
    ax.plot(x, scan, "x:", color="grey", label="partner event → intake topic p95")
    ax.axhline(GOAL_P95_S, color="red", linestyle="--", label="goal: p95 ≤ 2 s")
    ax.axvline(GOAL_PARTNER_EVENTS_PER_S, color="red", linestyle=":", alpha=0.5)
    for s, xi in zip(steps, x, strict=True):
        if not s["sustained"]:
            ax.annotate(
                "not sustained",
                (xi, GOAL_P95_S),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
                color="darkred",
            )
    ax.set_xlabel("offered partner events/s (escalations/s = 1/10 of it)")
    ax.set_ylabel("latency (s)")
    ax.set_yscale("log")
    ax.set_title(
        "disputedesk end to end — latency against offered rate\n"
        f"({os.cpu_count()} cores shared with other work, {result['measured_at'][:16]} UTC)"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
