"""Pure figures: percentiles, backlog slope, the sustained verdict, and the figures of one
step from what was sent and seen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.e2e.cpu import _acceptances, cpu_ms_per_request
from bench.e2e.settings import (
    CONSUMER_GROUPS,
    ESCALATION_OFFSET_S,
    GOAL_ESCALATIONS_PER_S,
    GOAL_PARTNER_EVENTS_PER_S,
    SERVICES,
)
from bench.e2e.watchers import BacklogSample, Observations

# ---------------------------------------------------------------------------------------------
# Pure figures: percentiles, backlog slope, the sustained verdict
# ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(latencies_s: Sequence[float], *, missing: int = 0) -> dict[str, Any]:
    """p50/p95/p99/max in milliseconds, how many completed and how many never did."""

    def ms(p: float) -> float | None:
        value = percentile(latencies_s, p)
        return None if value is None else round(value * 1000, 1)

    return {
        "count": len(latencies_s),
        "missing": missing,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "max_ms": round(max(latencies_s) * 1000, 1) if latencies_s else None,
    }


def slope_per_s(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples: how fast a backlog grows."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread


@dataclass(frozen=True)
class Verdict:
    sustained: bool
    reasons: list[str]


def sustained_verdict(
    *,
    offered_per_s: float,
    achieved_per_s: float,
    backlog_slope_per_s: float,
    end_backlog: float,
    messages_per_s: float,
    completed_share: float,
    backlog_samples: int = 3,
    rate_tolerance: float = 0.95,
    growth_tolerance: float = 0.05,
    end_backlog_seconds: float = 2.0,
    completed_at_least: float = 0.99,
) -> Verdict:
    """A step is sustained when the requests offered were accepted at the rate offered, the
    pipeline's backlog did not grow (slope within 5 % of the message rate: noise, not a trend),
    it ended the step below two seconds' worth of messages, and (nearly) every escalation
    reached its decision email. Each failed condition is named."""
    reasons = []
    if backlog_samples < 3:
        reasons.append(f"backlog sampled {backlog_samples} times only (machine too busy)")
    if achieved_per_s < rate_tolerance * offered_per_s:
        reasons.append(f"accepted {achieved_per_s:.1f}/s of {offered_per_s:.1f}/s offered")
    if backlog_slope_per_s > growth_tolerance * messages_per_s:
        reasons.append(f"backlog grew {backlog_slope_per_s:.1f} messages/s")
    if end_backlog > end_backlog_seconds * messages_per_s:
        reasons.append(f"backlog {end_backlog:.0f} messages at the end of the step")
    if completed_share < completed_at_least:
        reasons.append(f"only {completed_share:.1%} of escalations reached a decision email")
    return Verdict(not reasons, reasons)


def highest_sustained(steps: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The sustained step with the highest offered rate (steps need not be sustained in order:
    a noisy neighbour may break a lower one)."""
    ok = [s for s in steps if s["sustained"]]
    return max(ok, key=lambda s: s["multiplier"]) if ok else None


# ---------------------------------------------------------------------------------------------
# Figures per step
# ---------------------------------------------------------------------------------------------


def _between(
    start: dict[str, tuple[float, int]], end: dict[str, float], step: int
) -> tuple[list[float], int]:
    done, missing = [], 0
    for key, (t0, s) in start.items():
        if s != step:
            continue
        if key in end:
            done.append(end[key] - t0)
        else:
            missing += 1
    return done, missing


def step_figures(
    obs: Observations,
    *,
    step: int,
    multiplier: float,
    seconds: float,
    window: tuple[float, float],
    samples: list[BacklogSample],
    cpu: dict[str, float],
    cpu_whole_step: dict[str, float] | None = None,
    plan: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # The decision's own time (reconciliation's clock, the same machine's): the benchmark's
    # topic reader is starved with everything else on a busy machine and would add its delay.
    decided = {rid: occurred for rid, (_, occurred, _) in obs.decided.items()}
    accepted_esc = obs.escalation_accepted
    escalation_stages = {
        "accepted→on_intake_topic": _between(accepted_esc, obs.escalation_canonical, step),
        "accepted→fraud_assessed": _between(accepted_esc, obs.assessed, step),
        "accepted→case_opened": _between(accepted_esc, obs.opened, step),
        "accepted→ack_email": _between(accepted_esc, obs.ack_email, step),
        "accepted→case_decided": _between(accepted_esc, decided, step),
        "accepted→decision_email": _between(accepted_esc, obs.decision_email, step),
        # Fraud's own promise: the assessment published within 1 s of the escalation event.
        "escalation_event→assessment_published": _between(
            {
                rid: (t, s)
                for rid, (_, s) in accepted_esc.items()
                if (t := obs.escalation_published.get(rid)) is not None
            },
            obs.assessment_published,
            step,
        ),
    }
    scans, scans_missing = _between(obs.scan_accepted, obs.scan_canonical, step)  # type: ignore[arg-type]
    outcomes: dict[str, int] = defaultdict(int)
    for rid, (_, s) in accepted_esc.items():
        if s == step:
            outcomes[obs.decided[rid][2] if rid in obs.decided else "NOT_DECIDED"] += 1

    partner_offered = GOAL_PARTNER_EVENTS_PER_S * multiplier
    escalations_offered = GOAL_ESCALATIONS_PER_S * multiplier
    accepted_total = sum(obs.accepted[(k, step)] for k in ("return", "scan", "escalation"))
    last = max((t for t, s_ in _acceptances(obs, step)), default=window[0] + seconds)
    if plan:
        # The plan's requests over the plan's span (its last send: the last escalation comes
        # after the last feed entry, a production mix's last batch or snapshot later still),
        # and the accepted ones over the same span or longer when the last acceptance came
        # after it (a queue in front). Events, not requests, make the consumers' messages: a
        # batch of 300 is 300 of them.
        span = max(seconds, float(plan["span_s"]))
        requests_offered = plan["requests"] / span
        events = plan["partner_events"] + plan["returns"] + plan["escalations"]
        messages_per_s = 2 * events / span
    else:
        span = seconds
        requests_offered = partner_offered * 4 / 3 + escalations_offered
        # Each request makes one event on intake.returns.v1, read by fraud and reconciliation.
        messages_per_s = requests_offered * 2
    achieved = accepted_total / max(span, last - window[0])
    events_accepted = (
        sum(1 for _, s_ in obs.scan_accepted.values() if s_ == step)
        + obs.accepted[("return", step)]
        + obs.accepted[("escalation", step)]
    )

    # The backlog's trend while the full load is on: from the moment escalations join the
    # scans until the last return's feed entry (ramp-up and tail left out).
    t0, _ = window
    steady = [
        (s.t - t0, s.total) for s in samples if ESCALATION_OFFSET_S + 2 <= s.t - t0 <= seconds
    ]
    slope = slope_per_s(steady)
    full = [s for s in samples if s.t - t0 <= seconds]
    end_backlog = full[-1].total if full else 0.0
    completed = len(escalation_stages["accepted→decision_email"][0])
    total_esc = sum(outcomes.values())
    verdict = sustained_verdict(
        offered_per_s=requests_offered,
        achieved_per_s=achieved,
        backlog_slope_per_s=slope,
        end_backlog=end_backlog,
        messages_per_s=messages_per_s,
        completed_share=completed / total_esc if total_esc else 0.0,
        backlog_samples=len(steady),
    )
    group_slopes = {
        group: round(
            slope_per_s(
                [
                    (s.t - t0, s.consumer_lag.get(group, 0))
                    for s in samples
                    if ESCALATION_OFFSET_S + 2 <= s.t - t0 <= seconds
                ]
            ),
            1,
        )
        for group in CONSUMER_GROUPS
    }
    outbox_slopes = {
        name: round(
            slope_per_s(
                [
                    (s.t - t0, s.outbox.get(name, 0.0))
                    for s in samples
                    if ESCALATION_OFFSET_S + 2 <= s.t - t0 <= seconds
                ]
            ),
            1,
        )
        for name in SERVICES
    }
    return {
        "step": step,
        "multiplier": multiplier,
        "seconds": seconds,
        "offered": {
            "partner_events_per_s": partner_offered,
            "escalations_per_s": escalations_offered,
            "requests_per_s": round(requests_offered, 1),
        },
        "plan": plan or {},
        "accepted": {
            "returns": obs.accepted[("return", step)],
            "scans": obs.accepted[("scan", step)],
            "escalations": obs.accepted[("escalation", step)],
            "requests_per_s": round(achieved, 1),
            "offered_requests": sum(
                obs.offered[(k, step)] for k in ("return", "scan", "escalation")
            ),
            # Sent: an escalation waits for its delivery's acceptance, and is never sent when
            # that does not come (a starved intake).
            "offered_escalations": obs.offered[("escalation", step)],
        },
        "http_ms_from_scheduled_send": {
            kind: latency_summary(obs.http_latency[(kind, step)])
            for kind in ("return", "scan", "escalation")
        },
        "escalation_to_decision_email": latency_summary(
            escalation_stages["accepted→decision_email"][0],
            missing=escalation_stages["accepted→decision_email"][1],
        ),
        "escalation_stages": {
            k: latency_summary(v, missing=m) for k, (v, m) in escalation_stages.items()
        },
        "partner_event_to_intake_topic": latency_summary(scans, missing=scans_missing),
        "case_outcomes": dict(outcomes),
        "backlog": {
            "slope_messages_per_s": round(slope, 1),
            "samples_while_fully_loaded": len(steady),
            "end_of_step": end_backlog,
            "max": max((s.total for s in samples), default=0.0),
            "consumer_lag_slope_per_s": group_slopes,
            "outbox_slope_per_s": outbox_slopes,
            "samples": [
                {"t": round(s.t - t0, 1), "lag": s.consumer_lag, "outbox": s.outbox}
                for s in samples
            ],
        },
        "cpu_cores_used": {k: round(v, 2) for k, v in cpu.items()},
        # CPU each component spent per accepted request, from the step's start until its
        # work had drained: on a shared machine this holds much better than rates do, and
        # it says what a dedicated machine would need for the goal.
        "cpu_ms_per_request": cpu_ms_per_request(cpu_whole_step or {}, accepted_total),
        # And per event accepted (feed entries, partner events, escalations): a rapidroute
        # batch is one request and hundreds of events, so across mixes this is the fair one.
        "events_accepted": events_accepted,
        "cpu_ms_per_event": cpu_ms_per_request(cpu_whole_step or {}, events_accepted),
        "sustained": verdict.sustained,
        "not_sustained_because": verdict.reasons,
    }
