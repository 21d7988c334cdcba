"""The desk's key figures per day or week, overall or per partner, category or claim type.

Pure functions over case and escalation rows, so every figure is checked without a database.
Activity is counted where it happened: escalations and cases in the bucket they were filed or
opened in, decisions, money and turnaround in the bucket they were decided in. Buckets are UTC
days, and weeks starting on Monday.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

Period = Literal["day", "week"]
Dimension = Literal["partner", "category", "claim_type"]
SYSTEM = "system"
APPROVED = frozenset({"GRANTED", "PARTIAL"})


@dataclass(frozen=True, slots=True)
class CaseRow:
    case_id: str
    seller_id: str
    partner_id: str | None
    category: str | None
    claim_type: str | None
    hub_id: str | None
    opened_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    rule_id: str | None
    outcome: str | None
    reason_code: str | None
    payout: int
    partner_debit: int
    buyer_receivable: int
    marketplace_cost: int
    sla_breached: bool
    fraud_band: str | None

    def dimension(self, by: Dimension | None) -> str:
        return "all" if by is None else slice_of(self, by) or "unknown"


@dataclass(frozen=True, slots=True)
class EscalationRow:
    seller_id: str
    partner_id: str | None
    category: str | None
    claim_type: str
    filed_at: datetime

    def dimension(self, by: Dimension | None) -> str:
        return "all" if by is None else slice_of(self, by) or "unknown"


# The row attribute each way of slicing reads; trends also slice cases by hub.
_SLICE_FIELDS = {
    "partner": "partner_id",
    "category": "category",
    "claim_type": "claim_type",
    "hub": "hub_id",
}


def slice_of(row: CaseRow | EscalationRow, by: str) -> str | None:
    """The row's value along one dimension (None when it has none, e.g. an escalation's hub)."""
    return getattr(row, _SLICE_FIELDS[by], None)


def bucket_of(at: datetime, period: Period) -> date:
    day = at.date()
    return day if period == "day" else day - timedelta(days=day.weekday())


def buckets(start: datetime, end: datetime, period: Period) -> list[date]:
    """Every day (or Monday-based week) that [start, end) touches."""
    step = timedelta(days=1 if period == "day" else 7)
    out, bucket = [], bucket_of(start, period)
    last = bucket_of(end - timedelta(microseconds=1), period)
    while bucket <= last:
        out.append(bucket)
        bucket += step
    return out


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(slots=True)
class _Tally:
    escalations: int = 0
    seller_escalations: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cases_opened: int = 0
    fraud_hits: int = 0
    decided: int = 0
    auto_decided: int = 0
    approved: int = 0
    rejected: int = 0
    sla_breached: int = 0
    payout: int = 0
    partner_recovery: int = 0
    buyer_recovery: int = 0
    marketplace_cost: int = 0
    turnaround_h: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        repeat = {s: n for s, n in self.seller_escalations.items() if n > 1}
        recovered = self.partner_recovery + self.buyer_recovery
        p50, p90 = percentile(self.turnaround_h, 0.5), percentile(self.turnaround_h, 0.9)
        return {
            "escalations": self.escalations,
            "repeat_sellers": len(repeat),
            "repeat_escalations": sum(n - 1 for n in repeat.values()),
            "cases_opened": self.cases_opened,
            "fraud_hits": self.fraud_hits,
            "decided": self.decided,
            "auto_decided": self.auto_decided,
            "auto_decision_rate": _ratio(self.auto_decided, self.decided),
            "approved": self.approved,
            "approval_rate": _ratio(self.approved, self.decided),
            "rejected": self.rejected,
            "turnaround_h_p50": round(p50, 2) if p50 is not None else None,
            "turnaround_h_p90": round(p90, 2) if p90 is not None else None,
            "sla_breached": self.sla_breached,
            "sla_adherence": (
                round(1 - self.sla_breached / self.decided, 4) if self.decided else None
            ),
            "payout": self.payout,
            "partner_recovery": self.partner_recovery,
            "buyer_recovery": self.buyer_recovery,
            "recovery_rate": _ratio(recovered, self.payout),
            "marketplace_cost": self.marketplace_cost,
        }


def kpis(
    cases: Iterable[CaseRow],
    escalations: Iterable[EscalationRow],
    *,
    start: datetime,
    end: datetime,
    period: Period,
    by: Dimension | None = None,
) -> list[dict[str, Any]]:
    """One row per (bucket, dimension value) with activity in [start, end), oldest first.
    Overall (`by` None), every bucket of the span has its row, zeros included: a quiet day is
    a fact a reader (and a chart's axis) must see, not a gap."""

    def key(at: datetime, value: str) -> tuple[str, str]:
        return bucket_of(at, period).isoformat(), value

    tallies = _tally(cases, escalations, start, end, key, by)
    if by is None:
        for bucket in buckets(start, end, period):
            tallies[(bucket.isoformat(), "all")]  # noqa: B018  (the defaultdict adds a zero row)
    return [
        {"bucket": bucket, by or "scope": value, **tally.figures()}
        for (bucket, value), tally in sorted(tallies.items())
    ]


def totals(
    cases: Iterable[CaseRow],
    escalations: Iterable[EscalationRow],
    *,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """The whole period as one set of figures: the headline of a report."""
    tallies = _tally(cases, escalations, start, end, lambda at, value: ("", value), None)
    return (tallies.get(("", "all")) or _Tally()).figures()


def _tally(
    cases: Iterable[CaseRow],
    escalations: Iterable[EscalationRow],
    start: datetime,
    end: datetime,
    key: Callable[[datetime, str], tuple[str, str]],
    by: Dimension | None,
) -> dict[tuple[str, str], _Tally]:
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)

    def within(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    for esc in escalations:
        if within(esc.filed_at):
            t = tallies[key(esc.filed_at, esc.dimension(by))]
            t.escalations += 1
            t.seller_escalations[esc.seller_id] += 1
    for case in cases:
        if within(case.opened_at):
            t = tallies[key(case.opened_at, case.dimension(by))]
            t.cases_opened += 1
            t.fraud_hits += case.fraud_band == "HIGH"
        if case.decided_at is not None and within(case.decided_at):
            t = tallies[key(case.decided_at, case.dimension(by))]
            t.decided += 1
            t.auto_decided += case.decided_by == SYSTEM
            t.approved += case.outcome in APPROVED
            t.rejected += case.outcome is None and case.reason_code is not None
            t.sla_breached += case.sla_breached
            t.payout += case.payout
            t.partner_recovery += case.partner_debit
            t.buyer_recovery += case.buyer_receivable
            t.marketplace_cost += case.marketplace_cost
            t.turnaround_h.append((case.decided_at - case.opened_at).total_seconds() / 3600)
    return tallies
