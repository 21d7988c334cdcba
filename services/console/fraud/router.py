"""Fraud work: alerts (acknowledge, close), an entity's risk with its history, the watchlist and
analyst labels, all through the fraud service's API with the person's key."""

from __future__ import annotations

from typing import Any, Literal, get_args
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from services.console.upstream import UpstreamProblem
from services.console.web import ConsoleRoute, Desk, Form, render, upstream_of
from shared.lookups import EntityId, EntityIdPath

router = APIRouter(route_class=ConsoleRoute, prefix="/fraud", tags=["fraud"])

EntityType = Literal["seller", "buyer", "partner", "hub", "agent"]
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)
ALERT_STATUSES = ("open", "acknowledged", "closed")
_ENTITY_ID: TypeAdapter[str] = TypeAdapter(EntityId)


@router.get("")
async def fraud_page(
    request: Request, desk: Desk, status: str = "open", problem: str = ""
) -> Response:
    upstream = upstream_of(request)
    status = status if status in ALERT_STATUSES else "open"
    alerts = await upstream.get(desk, "fraud", "/v1/alerts", status=status, limit=100)
    watchlist: list[dict[str, Any]] = []
    if desk.can_work_cases:
        watchlist = (await upstream.get(desk, "fraud", "/v1/watchlist", limit=100))["items"]
    return render(
        request,
        "fraud.html",
        alerts=alerts["items"],
        status=status,
        statuses=ALERT_STATUSES,
        watchlist=watchlist,
        entity_types=ENTITY_TYPES,
        problem=problem[:300],
        done=request.query_params.get("done", ""),
    )


def _back(status: str = "open", **extra: str) -> RedirectResponse:
    return RedirectResponse("/fraud?" + urlencode({"status": status, **extra}), status_code=303)


@router.post("/alerts/{alert_id}")
async def act_on_alert(request: Request, alert_id: str, desk: Desk, form: Form) -> Response:
    body = {"note": form.get("note", ""), "close": form.get("close") == "yes"}
    try:
        await upstream_of(request).post(
            desk, "fraud", f"/v1/alerts/{quote(alert_id, safe='')}/acknowledge", body
        )
    except UpstreamProblem as problem:
        return _back(problem=problem.sentence)
    return _back(done="Alert closed." if body["close"] else "Alert acknowledged.")


@router.post("/watchlist")
async def watch(request: Request, desk: Desk, form: Form) -> Response:
    body = {k: form.get(k, "").strip() for k in ("entity_type", "entity_id", "reason")}
    try:
        await upstream_of(request).post(desk, "fraud", "/v1/watchlist", body)
    except UpstreamProblem as problem:
        return _back(problem=problem.sentence)
    return _back(done=f"{body['entity_type']} {body['entity_id']} is on the watchlist.")


@router.post("/labels")
async def label(request: Request, desk: Desk, form: Form) -> Response:
    body = {k: form.get(k, "").strip() for k in ("entity_type", "entity_id", "verdict", "note")}
    try:
        await upstream_of(request).post(desk, "fraud", "/v1/labels", body)
    except UpstreamProblem as problem:
        return _back(problem=problem.sentence)
    return _back(done="Label recorded.")


@router.get("/risk/{entity_type}/{entity_id}")
async def entity_risk(
    request: Request, entity_type: EntityType, entity_id: EntityIdPath, desk: Desk
) -> Response:
    risk = await upstream_of(request).get(
        desk, "fraud", f"/v1/risk/{quote(entity_type, safe='')}/{quote(entity_id, safe='')}"
    )
    return render(request, "risk.html", risk=risk, entity_types=ENTITY_TYPES)


@router.get("/risk")
async def find_entity(
    request: Request, desk: Desk, entity_type: str = "", entity_id: str = ""
) -> Response:
    if entity_type not in ENTITY_TYPES or not entity_id.strip():
        return _back(problem="Choose an entity type and give its id.")
    # Checked here as the risk page checks its path, so a malformed id is refused naming the
    # form's field and no address is made of it.
    try:
        entity = _ENTITY_ID.validate_python(entity_id.strip())
    except ValidationError as refused:
        raise RequestValidationError(
            [{**e, "loc": ("query", "entity_id")} for e in refused.errors()]
        ) from None
    return RedirectResponse(f"/fraud/risk/{entity_type}/{quote(entity, safe='')}", status_code=303)
