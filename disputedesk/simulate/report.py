"""Print the evaluation table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from disputedesk.simulate.evaluation import CASE_HORIZON, MISSED_CAUSES
from disputedesk.simulate.generator import PATTERNS


def _f(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def print_report(report: dict[str, Any], console: Console) -> None:
    pooled = report["pooled"]
    table = Table(
        title=f"fraud-eval, seeds {report['seeds']} pooled ({report['seconds']} s): "
        "each event by its latest assessment"
    )
    for col in (
        "pattern",
        "events planted",
        "event P",
        "event R",
        "entities",
        "entity P",
        "entity R",
        "median days to alert",
        "missed: unfound / other",
    ):
        table.add_column(col)
    for p in PATTERNS:
        r = pooled[p]
        missed = r.get("events_missed") or {}
        table.add_row(
            p,
            _f(r["events_planted"]),
            _f(r["event_precision"]),
            _f(r["event_recall"]),
            _f(r["entities_planted"]),
            _f(r["entity_precision"]),
            _f(r["entity_recall"]),
            _f(r["median_days_to_alert"]),
            " / ".join(_f(missed.get(c)) for c in ("never_alerted", "otherwise")),
        )
    console.print(table)
    console.print(
        "missed: unfound = no alert of the pattern on the event's parties, other = "
        "alerted, the event still not HIGH"
    )
    sooner = Table(
        title=f"the same events by decision (latest assessment made within "
        f"{CASE_HORIZON.days} days of the event) and at arrival"
    )
    for col in (
        "pattern",
        "P by decision",
        "R by decision",
        "P at arrival",
        "R at arrival",
        "missed by decision: early / unfound / other",
    ):
        sooner.add_column(col)
    for p in PATTERNS:
        r = pooled[p]
        missed = r.get("events_missed_by_decision") or {}
        sooner.add_row(
            p,
            _f(r.get("event_precision_by_decision")),
            _f(r.get("event_recall_by_decision")),
            _f(r.get("event_precision_at_arrival")),
            _f(r.get("event_recall_at_arrival")),
            " / ".join(_f(missed.get(c)) for c in MISSED_CAUSES),
        )
    console.print(sooner)
    console.print(
        f"missed by decision: early = more than {CASE_HORIZON.days} days before their "
        "fraudster's first alert, unfound = no alert of the pattern on their "
        "parties, other = alerted in time, still not HIGH"
    )
    h = pooled["honest"]
    console.print(
        f"honest sellers flagged {h['sellers_flagged']}/{h['sellers']} "
        f"(FPR {_f(h['seller_fp_rate'])}); honest buyers flagged {h['buyers_flagged']}/"
        f"{h['buyers']} (FPR {_f(h['buyer_fp_rate'])}); honest escalations HIGH "
        f"{h['escalations_high']}/{h['escalations']} (FPR {_f(h['escalation_fp_rate'])}); "
        f"of honest parties only {h.get('escalations_honest_parties_high')}/"
        f"{h.get('escalations_honest_parties')} "
        f"(FPR {_f(h.get('honest_party_escalation_fp_rate'))})"
    )
    for kind in ("reason", "entity"):
        sources = sorted(
            (
                (k.split(":", 1)[1], v)
                for k, v in h.items()
                if k.startswith(f"honest_high_by_{kind}:")
            ),
            key=lambda kv: -kv[1],
        )
        if sources:
            console.print(
                f"honest-party HIGH escalations by their strongest reason ({kind}): "
                + "; ".join(f"{name} {n}" for name, n in sources[:8])
            )
    for etype in ("seller", "buyer", "hub", "agent"):
        if f"{etype}s" in h:
            console.print(
                f"honest {etype}s: ever alerted {h[f'{etype}s_ever_flagged']}/"
                f"{h[f'{etype}s']} ({_f(h.get(f'{etype}_fp_rate_ever'))}), alerted "
                f"at the end {h[f'{etype}s_flagged_at_end']} "
                f"({_f(h.get(f'{etype}_fp_rate_at_end'))})"
            )
    looks = [
        (k.removeprefix("lookalike_"), v)
        for k, v in h.items()
        if k.startswith("lookalike_") and not k.endswith(("flagged", "at_end"))
    ]
    if any(v for _, v in looks):
        console.print(
            "look-alikes (honest): "
            + "; ".join(
                f"{name} {h[f'lookalike_{name}_ever_flagged']} ever / "
                f"{h[f'lookalike_{name}_flagged_at_end']} at end of {n}"
                for name, n in looks
                if n
            )
        )
    power = pooled.get("power") or {}
    for p, curve in power.items():
        if not any(c["planted"] for c in curve["cells"]):
            continue
        t = Table(
            title=f"{p}: entity recall by intensity and relevant events (goal: >= 2.5x and "
            f">= 15 events: {curve['goal_detected']}/{curve['goal_planted']} = "
            f"{_f(curve['goal_recall'])}, median days to alert "
            f"{_f(curve['goal_median_days_to_alert'])})"
        )
        for col in ("intensity", "events", "detected / planted", "recall", "median days"):
            t.add_column(col)
        for c in curve["cells"]:
            if c["planted"]:
                t.add_row(
                    c["intensity"],
                    c["events"],
                    f"{c['detected']}/{c['planted']}",
                    _f(c["recall"]),
                    _f(c["median_days_to_alert"]),
                )
        console.print(t)
    for t in report["per_seed"]:
        run = t["run"]
        if report.get("mode") == "direct":
            console.print(
                f"seed {run['seed']}: {run['actions']} actions, {run['assessments']} "
                f"assessments scored directly in {run['seconds']} s"
            )
            continue
        console.print(
            f"seed {run['seed']}: {run['events_accepted']} events, {run['assessments']} "
            f"assessments, drive {run['drive_seconds']} s, total {run['total_seconds']} s "
            f"(CPU {run.get('cpu_seconds')} s), "
            f"escalation→assessment latency {run['escalation_assessment_latency']}, "
            f"rejected {len(run['rejected'])}"
        )
