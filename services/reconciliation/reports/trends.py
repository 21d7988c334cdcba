"""Recurring problems: where cases spike against their own baseline, and what to change.

For each partner, hub, category and claim type, the cases opened in the recent window are
compared with the rate of the baseline window before it. The question is the Poisson one: if
this slice kept its baseline rate, how likely would a count at least this large be? Slices under
`alpha` are reported, with the rule most of their cases were decided by and the process change
that rule points at. One plus-one in the baseline keeps a slice never seen before from looking
infinitely surprising after a handful of cases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.reconciliation.reports.kpis import CaseRow, slice_of
from shared.stats import poisson_sf

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
    expected: float
    ratio: float
    p_value: float
    top_rule: str | None
    top_rule_share: float
    payout: int
    recommendation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "value": self.value,
            "cases": self.cases,
            "expected": round(self.expected, 2),
            "ratio": round(self.ratio, 2),
            "p_value": float(f"{self.p_value:.3g}"),
            "top_rule": self.top_rule,
            "top_rule_share": round(self.top_rule_share, 3),
            "payout": self.payout,
            "recommendation": self.recommendation,
        }


def recurring_problems(
    cases: Iterable[CaseRow],
    *,
    as_of: datetime,
    window_days: int = 7,
    baseline_days: int = 28,
    alpha: float = 1e-3,
    min_cases: int = 5,
) -> list[RecurringProblem]:
    """Slices whose recent case count is improbable under their baseline rate, worst first."""
    window_start = as_of - timedelta(days=window_days)
    baseline_start = window_start - timedelta(days=baseline_days)
    recent: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
    baseline: Counter[tuple[str, str]] = Counter()
    for case in cases:
        for dimension in DIMENSIONS:
            value = slice_of(case, dimension)
            if value is None:
                continue
            if window_start <= case.opened_at < as_of:
                recent[(dimension, value)].append(case)
            elif baseline_start <= case.opened_at < window_start:
                baseline[(dimension, value)] += 1

    found = []
    scale = window_days / baseline_days
    for (dimension, value), slice_cases in recent.items():
        k = len(slice_cases)
        if k < min_cases:
            continue
        expected = (baseline[(dimension, value)] + 1) * scale
        p = poisson_sf(k, expected)
        if p >= alpha:
            continue
        rules = Counter(c.rule_id for c in slice_cases if c.rule_id)
        top_rule, top_count = rules.most_common(1)[0] if rules else (None, 0)
        found.append(
            RecurringProblem(
                dimension=dimension,
                value=value,
                cases=k,
                expected=expected,
                ratio=k / expected,
                p_value=p,
                top_rule=top_rule,
                top_rule_share=top_count / k,
                payout=sum(c.payout for c in slice_cases),
                recommendation=RECOMMENDATIONS.get(top_rule or "", FALLBACK),
            )
        )
    return sorted(found, key=lambda r: (r.p_value, -r.cases, r.dimension, r.value))
