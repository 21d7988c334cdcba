"""One return's story on one page, and the desk's actions on it. Every action is the review
desk API's own (reconciliation), called with the signed-in person's key: a role the API would
refuse is not offered, and when the API refuses anyway its sentence appears beside the field."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.session import DeskSession
from services.console.upstream import UpstreamProblem, UpstreamUnavailable
from services.console.web import Desk, Form, render, upstream_of
from shared.events import LiableParty

router = APIRouter(prefix="/cases", tags=["case"])

RULES = ["MANUAL", "OVERRIDE", *(f"L{n}" for n in range(1, 13))]
DECIDABLE = {"OPEN", "AWAITING_EVIDENCE", "UNDER_REVIEW", "ESCALATED"}
OPEN_STATES = DECIDABLE
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
DONE = {
    "assign": "Owner set.",
    "note": "Note added.",
    "call": "Call logged.",
    "evidence": "Evidence requested from the seller; the SLA clock pauses meanwhile.",
    "decide": "Decision recorded.",
    "approve": "Proposal approved.",
    "escalate": "Escalated to management.",
    "appeal": "Appeal decided.",
    "read": "The seller's replies are marked read.",
}


def _offers(desk: DeskSession, case: dict[str, Any]) -> dict[str, bool]:
    """What this person may do to this case now: the API's role and four-eyes rules, so a
    button never leads to a certain refusal."""
    worker = desk.can_work_cases
    state = case["state"]
    proposal_waiting = state == "ESCALATED" and case.get("proposal") is not None
    return {
        "assign": worker and state in OPEN_STATES,
        "note": worker,
        "call": worker,
        "evidence": worker and state in {"OPEN", "UNDER_REVIEW"},
        "decide": worker and state in DECIDABLE,
        "escalate": worker and state in {"OPEN", "UNDER_REVIEW", "AWAITING_EVIDENCE"},
        "approve": desk.is_manager and proposal_waiting and case.get("proposed_by") != desk.actor,
        "own_proposal": proposal_waiting and case.get("proposed_by") == desk.actor,
        "appeal": desk.is_manager and state == "APPEALED" and case.get("decided_by") != desk.actor,
        # Notifications keeps the conversation; reading it clears the queue's "seller replied".
        "read": worker and case.get("seller_unread_since") is not None,
    }


def _evidence(case: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for esc in case["facts"].get("escalations", []):
        for item in esc.get("evidence") or []:
            items.append({**item, "source": "escalation", "at": esc.get("filed_at")})
    for added in case["facts"].get("evidence_added", []):
        for item in added.get("evidence") or []:
            items.append({**item, "source": "added later", "at": added.get("added_at")})
    for item in items:
        uri = str(item.get("uri", ""))
        item["image"] = uri.startswith("https://") and uri.lower().endswith(IMAGE_SUFFIXES)
    return items


def _legs(scans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each scan with the weight change since the previous weighed scan (pilferage shows here)."""
    previous: int | None = None
    out = []
    for s in sorted(scans, key=lambda s: str(s.get("occurred_at"))):
        weight = s.get("weight_g")
        change = weight - previous if weight is not None and previous is not None else None
        shown = f"{change:+d} g".replace("-", "−") if change else None  # a true minus sign
        out.append({**s, "weight_change_g": change, "weight_change": shown})
        if weight is not None:
            previous = weight
    return out


async def _case_page(
    request: Request,
    desk: DeskSession,
    case_id: str,
    *,
    status_code: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    submitted: dict[str, str] | None = None,
    action: str | None = None,
) -> Response:
    upstream = upstream_of(request)
    case = await upstream.get(desk, "reconciliation", f"/v1/cases/{case_id}")
    messages: list[dict[str, Any]] | None
    messages_note = None
    try:
        found = await upstream.get(
            desk, "notifications", "/v1/messages", case_id=case_id, limit=100
        )
        messages = found["items"]
    except UpstreamProblem as problem:
        messages, messages_note = None, problem.sentence
    except UpstreamUnavailable as slow:
        messages, messages_note = None, slow.sentence
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "case.html",
        status_code=status_code,
        case=case,
        facts=case["facts"],
        scans=_legs(case["facts"].get("partner_scans", [])),
        evidence=_evidence(case),
        notes=[t for t in case["timeline"] if t["kind"] in ("NOTE", "CALL_LOGGED")],
        messages=messages,
        messages_note=messages_note,
        offers=_offers(desk, case),
        parties=[p.value for p in LiableParty],
        errors=errors or {},
        submitted=submitted or {},
        failed_action=action,
        rules=RULES,
        done=done,
        idem=str(uuid.uuid4()),
    )


@router.get("/{case_id}")
async def case_page(request: Request, case_id: str, desk: Desk) -> Response:
    return await _case_page(request, desk, case_id)


def _body(action: str, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The API path and JSON body of a desk action, from the form's fields (ints parsed only
    when they look like ints: anything else goes to the API, whose refusal names the field)."""

    def number(name: str) -> Any:
        raw = form.get(name, "").strip()
        return int(raw) if raw.lstrip("-").isdigit() else (raw or None)

    if action == "assign":
        return "assign", {"assignee": form.get("assignee", "").strip()}
    if action == "note":
        return "notes", {"note": form.get("note", "")}
    if action == "call":
        minutes = number("duration_min")
        return "calls", {
            "direction": form.get("direction", ""),
            "counterpart": form.get("counterpart", "SELLER"),
            "duration_s": minutes * 60 if isinstance(minutes, int) else minutes,
            "summary": form.get("summary", ""),
        }
    if action == "evidence":
        checklist = [
            line.strip() for line in form.get("checklist", "").splitlines() if line.strip()
        ]
        return "evidence-requests", {"checklist": checklist, "reason": form.get("reason", "")}
    if action == "decide":
        return "decision", {
            "liable_party": form.get("liable_party", ""),
            "payout_pct": number("payout_pct"),
            "reason": form.get("reason", ""),
            "rule_id": form.get("rule_id", "MANUAL") or "MANUAL",
        }
    if action == "approve":
        return "approve", {"reason": form.get("reason", "")}
    if action == "escalate":
        return "escalate", {"reason": form.get("reason", "")}
    if action == "appeal":
        body: dict[str, Any] = {
            "overturn": form.get("overturn") == "yes",
            "reason": form.get("reason", ""),
        }
        if form.get("liable_party"):
            body["liable_party"] = form["liable_party"]
        if form.get("payout_pct", "").strip():
            body["payout_pct"] = number("payout_pct")
        return "appeal-decision", body
    raise KeyError(action)


# The API names `duration_s`; the form asks for minutes.
_FIELD_ALIASES = {"duration_s": "duration_min"}


@router.post("/{case_id}/{action}")
async def case_action(
    request: Request, case_id: str, action: str, desk: Desk, form: Form
) -> Response:
    if action not in DONE:
        return render(
            request,
            "error.html",
            status_code=404,
            title="Not found",
            sentence="The console has no such action.",
        )
    if action == "read":
        service, path, body = "notifications", "/conversation/read", None
    else:
        service = "reconciliation"
        path, body = _body(action, form)
        path = f"/{path}"
    try:
        await upstream_of(request).post(
            desk,
            service,
            f"/v1/cases/{case_id}{path}",
            body,
            idempotency_key=form.get("idem") or None,
        )
    except UpstreamProblem as problem:
        fields = {_FIELD_ALIASES.get(k, k): v for k, v in problem.fields.items()}
        return await _case_page(
            request,
            desk,
            case_id,
            status_code=422 if problem.status in (400, 422) else problem.status,
            errors={action: {"_": problem.sentence, **fields}},
            submitted=form,
            action=action,
        )
    return RedirectResponse(
        f"/cases/{quote(case_id, safe='')}?done={action}#actions", status_code=303
    )
