"""Recurring problems: where cases spike against their own baseline, and what to change.

For each partner, hub, category and claim type, the cases opened in the recent window are
compared with the baseline window before it, **normalised by volume**: under "nothing changed",
a slice keeps its share of all cases, so of its k recent + b baseline cases the recent ones are
Binomial(k + b, q) with q the recent window's share of all cases. A desk whose whole volume
doubles raises no slice; a slice that doubles while the rest stays flat does.

Two guards against false alarms:
- **minimum history**: nothing is flagged until the desk has seen cases for `min_history_days`
  before the window (a fresh database, where every slice is new, flags nothing);
- **Benjamini–Hochberg** across every slice tested: of the slices flagged, the expected share
  of false alarms is at most `alpha`, however many partners, hubs and categories there are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.reconciliation.reports.kpis import CaseRow, slice_of
from shared.stats import binomial_sf

DIMENSIONS = ("partner", "hub", "category", "claim_type")

# What the desk recommends when a slice's cases mostly end under one rule. Keys are rule ids;
# the text speaks to the people who can change the process, not to sellers.
RECOMMENDATIONS: dict[str, str] = {
    "L1": "Parcels declared lost: review the partner's loss rate in the monthly partner "
    "review and check the lanes involved.",
    "L2": "Parcels damaged in transit: ask the partner for handling and packaging "
    "corrective actions on these lanes.",
    "L3": "Returns never delivered back: chase the partner's undelivered shipments and "
    "tighten its return-to-origin turnaround.",
    "L4": "Sellers claim non-receipt of OTP-verified deliveries: brief these sellers on "
    "how OTP proof works and check their receiving process.",
    "L5": "Deliveries without OTP proof: make OTP-verified delivery mandatory for this "
    "partner's returns.",
    "L6": "Weight lost between pickup and delivery (possible pilferage): audit the hubs on "
    "these lanes and require tamper-evident packaging.",
    "L7": "Parcels picked up despite a failed quality check: retrain the pickup agents and "
    "make a failed QC block the pickup.",
    "L8": "Wrong or used items after a passed quality check: audit the QC agents involved "
    "and add photo capture at QC.",
    "L9": "Damage after a passed quality check: check packaging at pickup and handling on "
    "these lanes.",
    "L10": "Wrong or used items with no quality check at pickup: turn on pickup QC for "
    "this category.",
    "L11": "Damage claims with no quality check at pickup: turn on pickup QC for this "
    "category or require buyer photos at return request.",
    "L12": "Cases no rule covers: review a sample for a common cause and propose an SOP rule.",
    "E3": "Claims filed after the window: remind sellers of the window in the delivery notice.",
    "E3b": "Non-receipt claims filed too early: show sellers the earliest filing date.",
    "E3c": "Non-receipt claims filed too late: remind sellers before the window closes.",
    "E4": "Claims without the required evidence: send these sellers the evidence guide "
    "(unboxing video or photos with the label).",
    "E5": "Claims held for high fraud risk: hand the slice to the fraud analysts and "
    "consider a watchlist entry.",
}
FALLBACK = "Review a sample of these cases for a common cause."


@dataclass(frozen=True, slots=True)
class RecurringProblem:
    dimension: str
    value: str
    cases: int
    baseline_cases: int
    expected: float
    ratio: float | None
    p_value: float
    q_value: float
    top_rule: str | None
    top_rule_share: float
    payout: int
    recommendation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "value": self.value,
            "cases": self.cases,
            "baseline_cases": self.baseline_cases,
            "expected": round(self.expected, 2),
            "ratio": round(self.ratio, 2) if self.ratio is not None else None,
            "p_value": float(f"{self.p_value:.3g}"),
            "q_value": float(f"{self.q_value:.3g}"),
            "top_rule": self.top_rule,
            "top_rule_share": round(self.top_rule_share, 3),
            "payout": self.payout,
            "recommendation": self.recommendation,
        }


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH-adjusted q-values, in the input's order: flag where q <= alpha."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted


def recurring_problems(
    cases: Iterable[CaseRow],
    *,
    as_of: datetime,
    window_days: int = 7,
    baseline_days: int = 28,
    alpha: float = 0.01,
    min_cases: int = 5,
    min_history_days: int = 14,
    history_start: datetime | None = None,
) -> list[RecurringProblem]:
    """Slices whose recent count is improbable given their share of the baseline, worst first.

    `history_start` is when the desk's first case opened (the earliest of `cases` when not
    given); with less than `min_history_days` of history before the window, nothing is flagged.
    """
    cases = list(cases)
    window_start = as_of - timedelta(days=window_days)
    baseline_start = window_start - timedelta(days=baseline_days)
    first = history_start or min((c.opened_at for c in cases), default=None)
    if first is None or first > window_start - timedelta(days=min_history_days):
        return []
    recent: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
    baseline: Counter[tuple[str, str]] = Counter()
    recent_total = baseline_total = 0
    for case in cases:
        in_recent = window_start <= case.opened_at < as_of
        in_baseline = baseline_start <= case.opened_at < window_start
        recent_total += in_recent
        baseline_total += in_baseline
        for dimension in DIMENSIONS:
            value = slice_of(case, dimension)
            if value is None:
                continue
            if in_recent:
                recent[(dimension, value)].append(case)
            elif in_baseline:
                baseline[(dimension, value)] += 1
    if not recent_total or not baseline_total:
        return []

    share = recent_total / (recent_total + baseline_total)
    tested = []
    for key, slice_cases in recent.items():
        k, b = len(slice_cases), baseline[key]
        if k < min_cases:
            continue
        tested.append((key, slice_cases, b, binomial_sf(k, k + b, share)))
    q_values = benjamini_hochberg([p for *_, p in tested])
    found = []
    for ((dimension, value), slice_cases, b, p), q in zip(tested, q_values, strict=True):
        if q > alpha:
            continue
        k = len(slice_cases)
        expected = b * recent_total / baseline_total
        rules = Counter(c.rule_id for c in slice_cases if c.rule_id)
        top_rule, top_count = rules.most_common(1)[0] if rules else (None, 0)
        found.append(
            RecurringProblem(
                dimension=dimension,
                value=value,
                cases=k,
                baseline_cases=b,
                expected=expected,
                ratio=k / expected if expected else None,
                p_value=p,
                q_value=q,
                top_rule=top_rule,
                top_rule_share=top_count / k,
                payout=sum(c.payout for c in slice_cases),
                recommendation=RECOMMENDATIONS.get(top_rule or "", FALLBACK),
            )
        )
    return sorted(found, key=lambda r: (r.p_value, -r.cases, r.dimension, r.value))
