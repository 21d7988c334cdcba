"""One return's story on one page, and the desk's actions on it. Every action is the review
desk API's own (reconciliation), called with the signed-in person's key: a role the API would
refuse is not offered, and when the API refuses anyway its sentence appears beside the field."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.session import DeskSession
from services.console.settings import image_origin
from services.console.upstream import UpstreamProblem, UpstreamUnavailable
from services.console.web import ConsoleRoute, Desk, Form, render, settings_of, upstream_of
from shared.auth import Role
from shared.events import LiableParty
from shared.lookups import IdPath
from shared.validation import ascii_digits

router = APIRouter(route_class=ConsoleRoute, prefix="/cases", tags=["case"])

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
    "task": "Task opened.",
    "escalate-appeal": "Appeal escalated to management.",
    "task-done": "Task done.",
    "ruling": "Ruling recorded.",
}
# The tasks API's teams (its `team` enum); the console imports no service's code.
TEAMS = (
    "logistics_partner_ops",
    "warehouse",
    "finance",
    "brand_management",
    "technology",
    "management",
)
# A notice in these dispute states has (or, withdrawn, may have) a contest behind it (the list
# does not carry it).
CONTESTED = {"CONTESTED", "UPHELD", "REVERSED", "PARTIAL", "WITHDRAWN"}


def _offers(
    desk: DeskSession,
    case: dict[str, Any],
    tasks: list[dict[str, Any]] | None = None,
    notices: list[dict[str, Any]] | None = None,
) -> dict[str, bool]:
    """What this person may do to this case now: the API's role and four-eyes rules, so a
    button never leads to a certain refusal."""
    worker = desk.can_work_cases
    desk_work = desk.team is None  # approvals, appeals and rulings are the desk's too
    state = case["state"]
    proposal_waiting = state == "ESCALATED" and case.get("proposal") is not None
    return {
        "assign": worker and state in OPEN_STATES,
        "note": worker,
        "call": worker,
        "evidence": worker and state in {"OPEN", "UNDER_REVIEW"},
        "decide": worker and state in DECIDABLE,
        "escalate": worker and state in {"OPEN", "UNDER_REVIEW", "AWAITING_EVIDENCE"},
        "approve": desk_work
        and desk.is_manager
        and proposal_waiting
        and case.get("proposed_by") != desk.actor,
        "own_proposal": proposal_waiting and case.get("proposed_by") == desk.actor,
        "appeal": desk_work
        and desk.is_manager
        and state == "APPEALED"
        and desk.actor not in {case.get("decided_by"), case.get("proposed_by")},
        # An appeal goes to management as a task with the case report; whoever cannot decide
        # it (an agent, or the manager who decided the case) hands it on this way.
        "escalate_appeal": worker and state == "APPEALED",
        # Notifications keeps the conversation; reading it clears the queue's "seller replied".
        "read": worker and case.get("seller_unread_since") is not None,
        # Tasks: the desk opens them; whoever the task asks (finance too) marks them done.
        "task": worker,
        "task_done": desk.is_(Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)
        and any(desk.can_close(t) for t in tasks or []),
        # Only an ops manager rules on a partner's contest.
        "ruling": desk_work
        and desk.is_manager
        and any(n["dispute"] == "CONTESTED" for n in notices or []),
    }


def _evidence(case: dict[str, Any], image_origins: frozenset[str]) -> list[dict[str, Any]]:
    """The case's evidence, each item a thumbnail only when it is an image on an evidence store
    the console's CSP allows (`CONSOLE_EVIDENCE_IMAGE_SOURCES`); any other is a link, when it is
    an https address without credentials. An item stored before intake refused the others
    (`http://…`, `https://user:pw@…`) is shown as not linked, its address withheld: a
    credential is not put on screen, and no scheme but https reaches an `href`."""
    items: list[dict[str, Any]] = []
    for esc in case["facts"].get("escalations", []):
        for item in esc.get("evidence") or []:
            items.append({**item, "source": "escalation", "at": esc.get("filed_at")})
    for added in case["facts"].get("evidence_added", []):
        for item in added.get("evidence") or []:
            items.append({**item, "source": "added later", "at": added.get("added_at")})
    for item in items:
        uri = str(item.get("uri", ""))
        item["link"] = uri if image_origin(uri) is not None else None
        item["image"] = image_origin(uri) in image_origins and urlsplit(uri).path.lower().endswith(
            IMAGE_SUFFIXES
        )
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
    case = await upstream.get(desk, "reconciliation", f"/v1/cases/{quote(case_id, safe='')}")
    # The rest of the story comes from other APIs, side by side; each may fail on its own
    # (a role that may not read it, or a slow service) and says so in its own section.
    # A person of a team reads its team's tasks on the case; the seller's emails and the
    # partner's notices are the desk's, which the services refuse such a key: not asked.
    team_bound = desk.team is not None
    (messages, messages_note), (tasks, tasks_note), (notices, notices_note) = await asyncio.gather(
        _desks_own()
        if team_bound
        else _items(
            upstream.get(desk, "notifications", "/v1/messages", case_id=case_id, limit=100)
        ),
        _items(
            upstream.get(
                desk, "reconciliation", f"/v1/cases/{quote(case_id, safe='')}/tasks", limit=100
            )
        ),
        _desks_own() if team_bound else _notices(request, desk, case),
    )
    if notices:
        details = await asyncio.gather(
            *(
                _items(
                    upstream.get(desk, "reconciliation", f"/v1/partner-notices/{n['notice_id']}")
                )
                for n in notices
                if n["dispute"] in CONTESTED
            )
        )
        contests = {d["notice_id"]: d.get("contest") for d, _ in details if d is not None}
        for n in notices:
            n["contest"] = contests.get(n["notice_id"])
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "case.html",
        status_code=status_code,
        case=case,
        facts=case["facts"],
        scans=_legs(case["facts"].get("partner_scans", [])),
        evidence=_evidence(case, settings_of(request).image_origins()),
        notes=[t for t in case["timeline"] if t["kind"] in ("NOTE", "CALL_LOGGED")],
        messages=messages,
        messages_note=messages_note,
        tasks=tasks,
        tasks_note=tasks_note,
        notices=notices,
        notices_note=notices_note,
        teams=TEAMS,
        offers=_offers(desk, case, tasks, notices),
        parties=[p.value for p in LiableParty],
        errors=errors or {},
        submitted=submitted or {},
        failed_action=action,
        rules=RULES,
        done=done,
        idem=str(uuid.uuid4()),
    )


async def _notices(
    request: Request, desk: DeskSession, case: dict[str, Any]
) -> tuple[Any, str | None]:
    """A debit notice follows only a posting to the partner's receivable: a case whose ledger
    never had one has no notice, and the page spares the call (it counts against the 300 ms
    render budget). The ledger, not the decision, because an overturned decision keeps its
    old notice."""
    debited = any(
        str(line.get("account", "")).startswith("partner_receivable")
        for tx in case.get("ledger") or []
        for line in tx.get("lines") or []
    )
    if not debited:
        return [], None
    return await _items(
        upstream_of(request).get(
            desk, "reconciliation", "/v1/partner-notices", case_id=case["case_id"], limit=20
        )
    )


async def _desks_own() -> tuple[Any, str | None]:
    return None, "The desk keeps these; a key bound to a team reads its team's tasks."


async def _items(call: Awaitable[Any]) -> tuple[Any, str | None]:
    """A list page's items (or a detail), or None and the sentence saying why not."""
    try:
        found = await call
    except (UpstreamProblem, UpstreamUnavailable) as failed:
        return None, failed.sentence
    return (found["items"] if "items" in found else found), None


@router.get("/{case_id}")
async def case_page(request: Request, case_id: IdPath, desk: Desk) -> Response:
    return await _case_page(request, desk, case_id)


def _paise(rupees: str) -> Any:
    """₹ as typed (1234 or 1234.50) to integer paise; anything else goes to the API as it is,
    and its refusal names the field (so do digits of another script, which `\\d` would take)."""
    if re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,2})?", rupees):
        whole, _, fraction = rupees.partition(".")
        return int(whole) * 100 + int((fraction + "00")[:2])
    return rupees


def _call(case_id: str, action: str, form: dict[str, str]) -> tuple[str, str, Any]:
    """The service, path and JSON body of an action on the case page."""
    case_id = quote(case_id, safe="")  # one path segment, whatever the address held
    if action == "read":
        # Notifications keeps the conversation, and tells reconciliation it was read.
        return "notifications", f"/v1/cases/{case_id}/conversation/read", None
    if action == "task":
        return (
            "reconciliation",
            f"/v1/cases/{case_id}/tasks",
            {
                "team": form.get("team", ""),
                "ask": form.get("ask", ""),
                "blocks_settlement": form.get("blocks_settlement") == "yes",
            },
        )
    if action == "escalate-appeal":
        return (
            "reconciliation",
            f"/v1/cases/{case_id}/escalate-to-management",
            {"reason": form.get("reason", "")},
        )
    if action == "task-done":
        task_id = quote(form.get("task_id", ""), safe="")
        return (
            "reconciliation",
            f"/v1/tasks/{task_id}/complete",
            {"resolution": form.get("resolution", "")},
        )
    if action == "ruling":
        notice_id = quote(form.get("notice_id", ""), safe="")
        amount = form.get("reversed_amount", "").strip()
        body: dict[str, Any] = {
            "outcome": form.get("outcome", ""),
            "reason": form.get("reason", ""),
        }
        if amount:
            body["reversed_amount"] = _paise(amount)
        return "reconciliation", f"/v1/partner-notices/{notice_id}/ruling", body
    path, body = _body(action, form)
    return "reconciliation", f"/v1/cases/{case_id}/{path}", body


def _body(action: str, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The API path and JSON body of a desk action, from the form's fields (ints parsed only
    when they look like ints: anything else goes to the API, whose refusal names the field)."""

    def number(name: str) -> Any:
        raw = form.get(name, "").strip()
        return int(raw) if ascii_digits(raw.removeprefix("-")) else (raw or None)

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
        # The proposal the page showed: one a fact replaced since is refused, not approved.
        named = form.get("proposal_id", "").strip()
        return "approve", {
            "reason": form.get("reason", ""),
            **({"proposal_id": named} if named else {}),
        }
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
    request: Request, case_id: IdPath, action: str, desk: Desk, form: Form
) -> Response:
    if action not in DONE:
        return render(
            request,
            "error.html",
            status_code=404,
            title="Not found",
            sentence="The console has no such action.",
        )
    service, path, body = _call(case_id, action, form)
    try:
        await upstream_of(request).post(
            desk,
            service,
            path,
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
