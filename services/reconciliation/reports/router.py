"""Reports: KPIs per day or week, recurring problems with recommended changes, and the weekly
management pack as an Excel workbook with native charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.reconciliation import api_examples as ex
from services.reconciliation.api_examples import json_example
from services.reconciliation.reports import service, workbook
from shared.auth import Principal, Role, require
from shared.clock import RequestClock
from shared.db import DbSession
from shared.problems import Problem
from shared.service_route import ServiceRoute
from shared.validation import Day, Instant

router = APIRouter(route_class=ServiceRoute, prefix="/v1/reports", tags=["reports"])

READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A KPI report reads every case of its period; longer spans belong to a warehouse.
MAX_SPAN = timedelta(days=400)


@router.get(
    "/kpis",
    summary="KPIs per day or week, overall or per partner/category/claim type",
    responses=json_example(ex.KPIS),
)
async def kpis(
    session: DbSession,
    start: Annotated[Instant, Query(description="Inclusive, timezone-aware.")],
    end: Annotated[Instant, Query(description="Exclusive, timezone-aware.")],
    period: Literal["day", "week"] = "day",
    by: Literal["partner", "category", "claim_type"] | None = None,
    principal: Principal = require(*READERS),
) -> dict[str, Any]:
    if end <= start or end - start > MAX_SPAN:
        raise Problem(
            422,
            "Validation failed",
            f"end must be after start, at most {MAX_SPAN.days} days later.",
            type_="https://disputedesk.dev/problems/validation-failed",
            errors=[{"field": "query.end", "message": "must be after start, within 400 days"}],
        )
    return await service.kpi_report(session, start=start, end=end, period=period, by=by)


@router.get(
    "/recurring-problems",
    summary="Partners, hubs, categories and claim types whose cases spike against their baseline",
    responses=json_example(ex.RECURRING),
)
async def recurring_problems(
    clock: RequestClock,
    session: DbSession,
    as_of: Annotated[Instant | None, Query(description="End of the window; now.")] = None,
    window_days: int = Query(default=7, ge=1, le=90),
    baseline_days: int = Query(default=28, ge=7, le=365),
    alpha: float = Query(
        default=0.01,
        gt=0,
        lt=0.5,
        description="False discovery rate across all slices tested (Benjamini–Hochberg).",
    ),
    min_history_days: int = Query(
        default=14, ge=0, le=365, description="History the desk needs before the window."
    ),
    min_cases: int = Query(default=5, ge=1, le=10_000),
    principal: Principal = require(*READERS),
) -> dict[str, Any]:
    now = as_of or clock.now()
    problems = await service.recurring(
        session,
        as_of=now,
        window_days=window_days,
        baseline_days=baseline_days,
        alpha=alpha,
        min_cases=min_cases,
        min_history_days=min_history_days,
    )
    return {"as_of": now.isoformat(), "window_days": window_days, "problems": problems}


@router.get(
    "/management-pack",
    summary="The weekly management pack (XLSX with native charts) for the week holding week_of",
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def management_pack(
    session: DbSession,
    clock: RequestClock,
    week_of: Annotated[
        Day | None,
        Query(
            description="Any day of the week to report (weeks start on Monday); this week "
            "(UTC) when omitted, as `disputedesk report` does."
        ),
    ] = None,
    principal: Principal = require(Role.OPS_MANAGER, Role.FINANCE),
) -> Response:
    pack = await service.management_pack(session, day=week_of or clock.now().date())
    return Response(
        workbook.render(pack),
        media_type=XLSX,
        headers={
            "Content-Disposition": (
                f'attachment; filename="management-pack-{pack.week_start.isoformat()}.xlsx"'
            )
        },
    )
