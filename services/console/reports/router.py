"""Reports: KPI trends (the browser draws the charts from the KPI API's figures, fetched through
the console with the person's key), recurring problems, the weekly pack and partner statements
as downloads."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from services.console.upstream import UpstreamProblem
from services.console.web import ConsoleRoute, Desk, render, upstream_of
from shared.events import Id
from shared.negotiation import JSON

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(route_class=ConsoleRoute, prefix="/reports", tags=["reports"])

CHARTS = (
    ("escalations", "Escalations per day"),
    ("auto_decision_rate", "Share decided automatically"),
    ("sla_adherence", "SLA adherence"),
    ("payout", "Payout (₹)"),
)
PARTNERS = ("swiftship", "rapidroute", "desipost")


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(raw: str, fallback: date, name: str) -> date:
    """The day the form gave (`YYYY-MM-DD`), or `fallback` when it gave none. A malformed one
    (`2026-13-01`, `20261201`) is refused naming its field: it fell back silently, and the page
    or download showed another period than the one asked for."""
    if not raw:
        return fallback
    try:
        if _DAY.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise RequestValidationError(
        [
            {
                "type": "date_from_datetime_parsing",
                "loc": ("query", name),
                "msg": "send a day as YYYY-MM-DD",
                "input": None,
            }
        ]
    )


@router.get("")
async def reports_page(request: Request, desk: Desk, start: str = "", end: str = "") -> Response:
    today = datetime.now(UTC).date()
    last = _day(end, today, "end")
    first = _day(start, last - timedelta(days=27), "start")
    if first > last or (last - first).days > 366:
        first = last - timedelta(days=27)
    problem = None
    try:
        recurring = await upstream_of(request).get(
            desk, "reconciliation", "/v1/reports/recurring-problems"
        )
    except UpstreamProblem as refused:
        recurring, problem = {"problems": []}, refused.sentence
    return render(
        request,
        "reports.html",
        charts=CHARTS,
        recurring=recurring["problems"],
        problem=problem,
        start=first.isoformat(),
        end=last.isoformat(),
        partners=PARTNERS,
    )


@router.get("/kpis.json", response_class=JSONResponse)
async def kpis_json(request: Request, desk: Desk, start: str = "", end: str = "") -> Response:
    """The KPI API's daily figures for the charts (JSON the page's script reads)."""
    today = datetime.now(UTC).date()
    first = _day(start, today - timedelta(days=27), "start")
    last = _day(end, today, "end")
    report = await upstream_of(request).get(
        desk,
        "reconciliation",
        "/v1/reports/kpis",
        start=datetime.combine(first, datetime.min.time(), tzinfo=UTC).isoformat(),
        end=datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC).isoformat(),
        period="day",
    )
    return JSONResponse(report)


async def _download(request: Request, desk: Desk, path: str, **params: str) -> Response:
    upstream = await upstream_of(request).request(
        desk, "GET", "reconciliation", path, params=params
    )
    headers = {}
    if "content-disposition" in upstream.headers:
        headers["Content-Disposition"] = upstream.headers["content-disposition"]
    return Response(
        upstream.content, media_type=upstream.headers.get("content-type"), headers=headers
    )


@router.get("/pack", response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def weekly_pack(request: Request, desk: Desk, week_of: str = "") -> Response:
    day = _day(week_of, datetime.now(UTC).date(), "week_of")
    return await _download(request, desk, "/v1/reports/management-pack", week_of=day.isoformat())


@router.get(
    "/statement",
    response_class=Response,
    responses={200: {"content": {JSON: {}, "text/csv": {}, XLSX: {}}}},
)
async def partner_statement(
    request: Request,
    desk: Desk,
    partner_id: Annotated[Id, Query()],
    start: str = "",
    end: str = "",
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Response:
    today = datetime.now(UTC).date()
    first = _day(start, today - timedelta(days=30), "start")
    last = _day(end, today, "end")
    return await _download(
        request,
        desk,
        f"/v1/ledger/partners/{quote(partner_id, safe='')}/statement",
        period_start=datetime.combine(first, datetime.min.time(), tzinfo=UTC).isoformat(),
        period_end=datetime.combine(
            last + timedelta(days=1), datetime.min.time(), tzinfo=UTC
        ).isoformat(),
        format=format,
    )
