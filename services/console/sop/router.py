"""The SOP as the desk reads it: versions, a draft's differences from the policy in force, and a
what-if over past cases (payout delta, changed cases with links). Managers store drafts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.session import DeskSession
from services.console.upstream import UpstreamProblem
from services.console.web import Desk, Form, render, upstream_of

router = APIRouter(prefix="/sop", tags=["sop"])


def differences(base: Any, draft: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-by-field differences as dotted paths (what a reviewer of a draft reads first)."""
    if isinstance(base, dict) and isinstance(draft, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(base) | set(draft), key=str):
            out += differences(base.get(key), draft.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if base == draft else [{"field": path, "from": base, "to": draft}]


async def _versions(request: Request, desk: DeskSession) -> list[dict[str, Any]]:
    page = await upstream_of(request).get(desk, "reconciliation", "/v1/policies", limit=200)
    return page["items"]  # type: ignore[no-any-return]


@router.get("")
async def sop_index(request: Request, desk: Desk) -> Response:
    return render(request, "sop.html", versions=await _versions(request, desk), errors={})


async def _version_page(
    request: Request,
    desk: DeskSession,
    version: str,
    *,
    status_code: int = 200,
    what_if: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    submitted: dict[str, str] | None = None,
) -> Response:
    upstream = upstream_of(request)
    versions = await _versions(request, desk)
    policy = await upstream.get(desk, "reconciliation", f"/v1/policies/{quote(version, safe='')}")
    active = next((v["version"] for v in versions if v.get("status") == "ACTIVE"), None)
    changes: list[dict[str, Any]] = []
    if active and active != version:
        in_force = await upstream.get(desk, "reconciliation", f"/v1/policies/{active}")
        changes = [
            c
            for c in differences(in_force["definition"], policy["definition"])
            if c["field"] != "version"
        ]
    return render(
        request,
        "sop_version.html",
        status_code=status_code,
        policy=policy,
        active=active,
        changes=changes,
        what_if=what_if,
        errors=errors or {},
        submitted=submitted or {},
    )


@router.get("/{version}")
async def sop_version(request: Request, version: str, desk: Desk) -> Response:
    return await _version_page(request, desk, version)


def _instant(raw: str, *, end: bool) -> str | None:
    # The form asks for days; the API for instants. A "to" day includes that whole day.
    if not raw.strip():
        return None
    day = date.fromisoformat(raw.strip())
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    return moment.isoformat()


@router.post("/{version}/what-if")
async def run_what_if(request: Request, version: str, desk: Desk, form: Form) -> Response:
    try:
        body: dict[str, Any] = {
            "from": _instant(form.get("from", ""), end=False),
            "to": _instant(form.get("to", ""), end=True),
        }
    except ValueError:
        return await _version_page(
            request,
            desk,
            version,
            status_code=422,
            errors={"from": "Give days as YYYY-MM-DD."},
            submitted=form,
        )
    body = {k: v for k, v in body.items() if v is not None}
    try:
        report = await upstream_of(request).post(
            desk, "reconciliation", f"/v1/policies/{quote(version, safe='')}/what-if", body
        )
    except UpstreamProblem as problem:
        return await _version_page(
            request,
            desk,
            version,
            status_code=422,
            errors={"_": problem.sentence, **problem.fields},
            submitted=form,
        )
    return await _version_page(request, desk, version, what_if=report, submitted=form)


@router.post("/drafts")
async def create_draft(request: Request, desk: Desk, form: Form) -> Response:
    versions = await _versions(request, desk)
    try:
        changes = json.loads(form.get("changes", "") or "{}")
        if not isinstance(changes, dict):
            raise ValueError("not an object")
    except ValueError:
        return render(
            request,
            "sop.html",
            status_code=422,
            versions=versions,
            errors={
                "changes": 'Write the changes as a JSON object, e.g. {"windows": '
                '{"claim_window_h": 120}}.'
            },
            submitted=form,
        )
    version = form.get("version", "").strip()
    body = {"version": version, "changes": changes}
    try:
        await upstream_of(request).post(
            desk, "reconciliation", "/v1/policies", body, idempotency_key=form.get("idem") or None
        )
    except UpstreamProblem as problem:
        return render(
            request,
            "sop.html",
            status_code=422,
            versions=versions,
            errors={"_": problem.sentence, **problem.fields},
            submitted=form,
        )
    return RedirectResponse(f"/sop/{quote(version, safe='')}", status_code=303)
