"""The queue: the API's keyset pages (oldest first, the order SLA clocks run out in), filters,
counts per state, and a rows fragment the page re-fetches on its own (htmx) to stay live."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.session import DeskSession
from services.console.upstream import Upstream
from services.console.web import ConsoleRoute, Desk, render, settings_of, upstream_of
from shared.events import CaseState, ClaimType, FraudBand
from shared.validation import ascii_digits

router = APIRouter(route_class=ConsoleRoute, tags=["queue"])

PARTNERS = ("swiftship", "rapidroute", "desipost")
SLA_CHOICES = {
    "": "Any",
    "breached": "Breached",
    "4": "Under 4 h left",
    "12": "Under 12 h left",
    "24": "Under 24 h left",
}
REPLIED_CHOICES = {"": "Any", "unread": "Replied, not read yet", "none": "Nothing unread"}
FILTERS = ("state", "claim_type", "partner_id", "fraud_band", "sla", "assignee", "replied")
_SLA_CACHE_S = 60.0


async def review_sla_hours(request: Request, desk: DeskSession) -> int:
    """The review SLA of the policy in force (cached a minute): queue rows show hours left."""
    cached = getattr(request.app.state, "review_sla", None)
    if cached and time.monotonic() - cached[1] < _SLA_CACHE_S:
        return int(cached[0])
    upstream: Upstream = upstream_of(request)
    hours = 48
    versions = (await upstream.get(desk, "reconciliation", "/v1/policies"))["items"]
    active = next((v["version"] for v in versions if v.get("in_force")), None)
    if active:
        policy = await upstream.get(desk, "reconciliation", f"/v1/policies/{active}")
        found = _find(policy.get("definition") or {}, "review_sla_h")
        if isinstance(found, int):
            hours = found
    request.app.state.review_sla = (hours, time.monotonic())
    return hours


def _find(tree: Any, key: str) -> Any:
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def _chosen(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip()[:200] for name in FILTERS}


async def _page(request: Request, desk: DeskSession) -> dict[str, Any]:
    settings = settings_of(request)
    chosen = _chosen(request)
    sla_h = await review_sla_hours(request, desk)
    params: dict[str, Any] = {
        "state": chosen["state"],
        "claim_type": chosen["claim_type"],
        "partner_id": chosen["partner_id"],
        "fraud_band": chosen["fraud_band"],
        "assignee": chosen["assignee"],
        "limit": settings.page_size,
        "cursor": request.query_params.get("cursor", "")[:400],
    }
    if chosen["replied"] in ("unread", "none"):
        # The review desk API filters on it (notifications tells reconciliation of replies
        # and reads), so paging and SLA order stay the API's.
        params["seller_replied"] = "true" if chosen["replied"] == "unread" else "false"
    if chosen["sla"] == "breached":
        params["sla_breached"] = "true"
    elif ascii_digits(chosen["sla"]):
        # Under N hours left ⇔ opened at least (SLA − N) hours ago.
        params["min_age_hours"] = max(0, sla_h - int(chosen["sla"]))
    page = await upstream_of(request).get(desk, "reconciliation", "/v1/cases", **params)
    for case in page["items"]:
        case["sla_left_h"] = (
            round(sla_h - case["age_hours"], 1)
            if case["state"] in ("OPEN", "UNDER_REVIEW", "ESCALATED")
            else None
        )
    # Encoded: a value holding `&`, `=` or `#` (an assignee's name) is the same filter on the
    # next refresh and page, not a second filter or a fragment.
    query = urlencode({k: v for k, v in chosen.items() if v})
    return {
        "page": page,
        "chosen": chosen,
        "query": query,
        "sla_h": sla_h,
        "cursor": params["cursor"],
    }


@router.get("/")
async def queue_page(request: Request, desk: Desk) -> Response:
    counts = await upstream_of(request).get(desk, "reconciliation", "/v1/cases/counts")
    context = await _page(request, desk)
    return render(
        request,
        "queue.html",
        counts=counts["by_state"],
        states=[s.value for s in CaseState],
        claim_types=[c.value for c in ClaimType],
        bands=[b.value for b in FraudBand],
        partners=PARTNERS,
        sla_choices=SLA_CHOICES,
        replied_choices=REPLIED_CHOICES,
        **context,
    )


@router.get("/queue/rows")
async def queue_rows(request: Request, desk: Desk) -> Response:
    """The rows alone: what the open page swaps in every few seconds."""
    return render(request, "_queue_rows.html", **await _page(request, desk))


@router.get("/queue/counts")
async def queue_counts(request: Request, desk: Desk) -> Response:
    counts = await upstream_of(request).get(desk, "reconciliation", "/v1/cases/counts")
    return render(request, "_queue_counts.html", counts=counts["by_state"])
