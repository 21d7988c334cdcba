"""The SOP as the desk reads it: versions, a draft's differences from the policy in force, and a
what-if over past cases (payout delta, changed cases with links), the change log. Managers store
drafts, propose one for adoption from an effective time, approve another manager's proposal
(four eyes, enforced by the policy API) and retire versions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.session import DeskSession
from services.console.upstream import UpstreamProblem
from services.console.web import ConsoleRoute, Desk, Form, render, upstream_of
from shared.lookups import PolicyVersionPath

router = APIRouter(route_class=ConsoleRoute, prefix="/sop", tags=["sop"])


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


def _in_force(versions: list[dict[str, Any]]) -> str | None:
    # Several versions can be ACTIVE (one adopted from a later effective time); the API says
    # which one decides now.
    return next((v["version"] for v in versions if v.get("in_force")), None)


async def _changes(request: Request, desk: DeskSession) -> list[dict[str, Any]]:
    page = await upstream_of(request).get(desk, "reconciliation", "/v1/policies/changes", limit=500)
    return list(reversed(page["items"]))  # newest first


@router.get("")
async def sop_index(request: Request, desk: Desk) -> Response:
    return render(
        request,
        "sop.html",
        versions=await _versions(request, desk),
        changes=await _changes(request, desk),
        errors={},
    )


async def _version_page(
    request: Request,
    desk: DeskSession,
    version: str,
    *,
    status_code: int = 200,
    what_if: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    submitted: dict[str, str] | None = None,
    failed: str | None = None,
) -> Response:
    upstream = upstream_of(request)
    versions = await _versions(request, desk)
    policy = await upstream.get(desk, "reconciliation", f"/v1/policies/{quote(version, safe='')}")
    active = _in_force(versions)
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
        failed=failed,
        offers=_lifecycle_offers(desk, policy),
        done=LIFECYCLE_DONE.get(request.query_params.get("done", "")),
    )


LIFECYCLE_DONE = {
    "propose": "Proposed. A second ops manager must approve it.",
    "approve": "Approved: the version is adopted from its effective time.",
    "retire": "Retired.",
}


def _lifecycle_offers(desk: DeskSession, policy: dict[str, Any]) -> dict[str, bool]:
    """The policy API's lifecycle rules, so the page offers only what it would accept: only
    ops managers act; the proposer never approves their own proposal (four eyes); the version
    in force is not retired (its successor is adopted first)."""
    manager, status = desk.manages_policy, policy.get("status")
    own = policy.get("proposed_by") == desk.actor
    return {
        "propose": manager and status == "DRAFT",
        "approve": manager and status == "PROPOSED" and not own,
        "own_proposal": status == "PROPOSED" and own,
        "retire": manager and status in ("DRAFT", "PROPOSED", "ACTIVE") and not policy["in_force"],
    }


def _effective_at(raw: str) -> str:
    """The form's "YYYY-MM-DD HH:MM" in UTC as an instant; anything else goes to the API as
    typed, and its refusal names the field."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


@router.get("/{version}")
async def sop_version(request: Request, version: PolicyVersionPath, desk: Desk) -> Response:
    return await _version_page(request, desk, version)


def _instant(raw: str, *, end: bool) -> str | None:
    # The form asks for days; the API for instants. A "to" day includes that whole day.
    if not raw.strip():
        return None
    day = date.fromisoformat(raw.strip())
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    return moment.isoformat()


@router.post("/{version}/what-if")
async def run_what_if(
    request: Request, version: PolicyVersionPath, desk: Desk, form: Form
) -> Response:
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


# Last: the fixed paths above (what-if) must match before this catch-all of steps.
@router.post("/{version}/{step}")
async def lifecycle_step(
    request: Request, version: PolicyVersionPath, step: str, desk: Desk, form: Form
) -> Response:
    if step not in LIFECYCLE_DONE:
        return render(
            request,
            "error.html",
            status_code=404,
            title="Not found",
            sentence="The console has no such step.",
        )
    body: dict[str, Any] = {"reason": form.get("reason", "")}
    if step == "propose":
        body["effective_at"] = _effective_at(form.get("effective_at", ""))
    try:
        await upstream_of(request).post(
            desk,
            "reconciliation",
            f"/v1/policies/{quote(version, safe='')}/{step}",
            body,
            idempotency_key=form.get("idem") or None,
        )
    except UpstreamProblem as problem:
        return await _version_page(
            request,
            desk,
            version,
            status_code=422 if problem.status in (400, 422) else problem.status,
            errors={"_": problem.sentence, **problem.fields},
            submitted=form,
            failed=step,
        )
    return RedirectResponse(
        f"/sop/{quote(version, safe='')}?done={step}#lifecycle", status_code=303
    )
