"""Pilferage at a hub or pickup agent: weight drops and `LOST`/`DAMAGED_IN_TRANSIT` concentrated
at one place compared with its peers and with its own baseline.

Robust to one bad day: the excess must stay significant after the worst day is dropped, so a
single truck accident or a mis-calibrated scale for a day does not brand a hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import (
    Thresholds,
    binomial_sf,
    contribution_from_p,
    fmt_p,
    rate_test,
    shrunk_rate,
    tolerance_null,
)

ACTION = {
    "hub": "Audit the hub: CCTV on the sorting floor, weigh-in/weigh-out checks for a week.",
    "agent": "Pull the agent off high-value pickups and re-weigh their parcels at the hub.",
}


@dataclass(frozen=True, slots=True)
class DayCount:
    handled: int
    incidents: int


def pilferage_findings(
    entity_type: str,
    entity_id: str,
    days: Mapping[date, DayCount],
    peers: DayCount,
    baseline: DayCount,
    t: Thresholds,
    *,
    min_baseline: int = 30,
) -> list[Finding]:
    """`days`: the entity's recent window by day; `peers`: the same window for all others;
    `baseline`: the entity's own earlier window."""
    n = sum(d.handled for d in days.values())
    k = sum(d.incidents for d in days.values())
    if n == 0 or k == 0:
        return []
    test = rate_test(k, n, peers.incidents, peers.handled, t, prior_rate=0.03)
    worst = max(days.values(), key=lambda d: d.incidents)
    robust = rate_test(k - worst.incidents, n - worst.handled, peers.incidents, peers.handled, t,
                       prior_rate=0.03)
    p = max(test.p, robust.p)
    numbers = test.numbers() | {"p_without_worst_day": float(f"{robust.p:.3g}"),
                                "days": len(days)}
    detail = f"incident rate {test.detail()}; without worst day p={fmt_p(robust.p)}"
    if baseline.handled >= min_baseline:
        # A spike against the entity's own past is the second test; either may find it, so
        # each is charged half the false-alarm rate (Bonferroni).
        own = shrunk_rate(baseline.incidents, baseline.handled, test.peer, t.prior_strength)
        own_null = tolerance_null(own, ratio=t.tolerance_ratio, min_excess=t.min_excess)
        p_own = max(binomial_sf(k, n, own_null),
                    binomial_sf(k - worst.incidents, n - worst.handled, own_null))
        p = min(1.0, 2 * min(p, p_own))
        numbers |= {"baseline_rate": round(own, 4), "p_vs_baseline": float(f"{p_own:.3g}")}
        detail += f"; vs own baseline {own:.3f} p={fmt_p(p_own)}"
    contribution = contribution_from_p(p, t)
    if contribution <= 0:
        return []
    return [Finding(
        code=f"{entity_type.upper()}_PILFERAGE_RATE_HIGH", detail=detail,
        contribution=contribution, pattern=f"PILFERAGE_{entity_type.upper()}",
        entity_type=entity_type, entity_id=entity_id, numbers=numbers,
        alert=p <= t.alpha_high, suggested_action=ACTION[entity_type],
    )]
