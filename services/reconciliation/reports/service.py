"""Reports for the desk and its managers: KPIs, recurring problems and the weekly pack."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.reports import repository, workbook
from services.reconciliation.reports.kpis import Dimension, Period, kpis, totals
from services.reconciliation.reports.trends import recurring_problems

TREND_WEEKS = 12


async def kpi_report(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    period: Period,
    by: Dimension | None,
) -> dict[str, Any]:
    cases = await repository.case_rows(session, since=start, until=end)
    escalations = await repository.escalation_rows(session, since=start, until=end)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "period": period,
        "by": by,
        "amounts_in": "paise",
        "totals": totals(cases, escalations, start=start, end=end),
        "rows": kpis(cases, escalations, start=start, end=end, period=period, by=by),
    }


async def recurring(
    session: AsyncSession,
    *,
    as_of: datetime,
    window_days: int,
    baseline_days: int,
    alpha: float,
    min_cases: int,
    min_history_days: int = 14,
) -> list[dict[str, Any]]:
    since = as_of - timedelta(days=window_days + baseline_days)
    cases = await repository.case_rows(session, since=since, until=as_of)
    found = recurring_problems(
        cases,
        as_of=as_of,
        window_days=window_days,
        baseline_days=baseline_days,
        alpha=alpha,
        min_cases=min_cases,
        min_history_days=min_history_days,
        history_start=await repository.first_case_at(session),
    )
    return [p.as_dict() for p in found]


def week_of(day: date) -> datetime:
    """Midnight UTC of the Monday starting the week that holds `day`."""
    monday = day - timedelta(days=day.weekday())
    return datetime.combine(monday, time(), tzinfo=UTC)


async def management_pack(session: AsyncSession, *, day: date) -> workbook.Pack:
    """Everything the weekly pack shows, for the week holding `day`; `workbook.render` writes it."""
    start = week_of(day)
    end = start + timedelta(days=7)
    previous = start - timedelta(days=7)
    trend_start = start - timedelta(weeks=TREND_WEEKS - 1)
    cases = await repository.case_rows(session, since=trend_start, until=end)
    escalations = await repository.escalation_rows(session, since=trend_start, until=end)

    def week(by: Dimension) -> list[dict[str, Any]]:
        return kpis(cases, escalations, start=start, end=end, period="week", by=by)

    return workbook.Pack(
        week_start=start.date(),
        this_week=totals(cases, escalations, start=start, end=end),
        last_week=totals(cases, escalations, start=previous, end=start),
        daily=kpis(cases, escalations, start=start, end=end, period="day"),
        by_partner=week("partner"),
        by_category=week("category"),
        by_claim_type=week("claim_type"),
        problems=[
            p.as_dict()
            for p in recurring_problems(
                cases,
                as_of=end,
                window_days=7,
                history_start=await repository.first_case_at(session),
            )
        ],
        weekly_trend=kpis(cases, escalations, start=trend_start, end=end, period="week"),
    )
