"""The review desk: the queue, a case's whole story, and what ops agents and managers do to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.reconciliation.cases import repository, service
from services.reconciliation.cases.decisions import paid_and_pending, proposal_id
from services.reconciliation.cases.schemas import (
    AppealDecisionIn,
    ApproveIn,
    AssignIn,
    CallIn,
    CaseCounts,
    CaseDetail,
    CaseQueuePage,
    CaseSummary,
    DecisionIn,
    EscalateIn,
    EvidenceRequestIn,
    NoteIn,
    TimelineItem,
)
from services.reconciliation.facts import repository as facts
from services.reconciliation.ledger import repository as ledger
from services.reconciliation.models import Case
from shared import paging
from shared.auth import Principal, Role, require
from shared.clock import RequestClock
from shared.db import DbSession
from shared.events import CaseState, ClaimType, FraudBand
from shared.idempotency import Change
from shared.lookups import IdPath, IdQuery
from shared.paging import Cursor, Limit, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute
from shared.validation import Hours

router = APIRouter(route_class=ServiceRoute, prefix="/v1/cases", tags=["review desk"])

DESK = (Role.OPS_AGENT, Role.OPS_MANAGER)
READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)


async def _once(change: Change, action: Callable[[], Awaitable[Case]]) -> CaseSummary | Response:
    """Run a desk action at most once per Idempotency-Key, answering the case's summary."""

    async def run() -> CaseSummary:
        return CaseSummary(**_summary(await action(), change.now()))

    return await change.once(run)


def _summary(case: Case, now: datetime) -> dict[str, Any]:
    paid, pending = paid_and_pending(case)
    return {
        "case_id": case.case_id,
        "return_id": case.return_id,
        "seller_id": case.seller_id,
        "partner_id": case.partner_id,
        "claim_type": case.claim_type,
        "claimed_amount": case.claimed_amount,
        "origin": case.origin,
        "state": case.state,
        "waiting_for": case.waiting_for,
        "reason_code": case.reason_code,
        "fraud_band": case.fraud_band,
        "assignee": case.assignee,
        "sla_breached": case.sla_breached,
        "payout": paid,
        "payout_pending": pending,
        "version": case.version,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "age_hours": round((now - case.opened_at).total_seconds() / 3600, 2),
        "reply_by": case.reply_by,
        "appeal_by": case.appeal_by,
        "seller_unread_since": case.seller_unread_since,
    }


@router.get("", response_model=CaseQueuePage, summary="The case queue, oldest first")
async def list_cases(
    request: Request,
    response: Response,
    clock: RequestClock,
    session: DbSession,
    principal: Principal = require(*READERS, team_reads=True),
    state: CaseState | None = None,
    return_id: IdQuery = None,
    seller_id: IdQuery = None,
    partner_id: IdQuery = None,
    claim_type: ClaimType | None = None,
    fraud_band: FraudBand | None = None,
    sla_breached: bool | None = None,
    seller_replied: bool | None = Query(
        default=None,
        description="true: only cases whose seller replied and nobody at the desk has read it "
        "yet (notifications' `POST /v1/cases/{id}/conversation/read` clears it); false: the rest.",
    ),
    assignee: str | None = Query(default=None, max_length=200),
    min_age_hours: Annotated[Hours | None, Query()] = None,
    max_age_hours: Annotated[Hours | None, Query()] = None,
    limit: int = Limit(50, 500),
    cursor: Cursor = None,
) -> CaseQueuePage:
    now = clock.now()
    rows = await repository.queue(
        session,
        filters={
            "state": state.value if state else None,
            "partner_id": partner_id,
            "return_id": return_id,
            "seller_id": seller_id,
            "claim_type": claim_type.value if claim_type else None,
            "fraud_band": fraud_band.value if fraud_band else None,
            "assignee": assignee,
            "sla_breached": sla_breached,
            "seller_replied": seller_replied,
        },
        opened_before=now - timedelta(hours=min_age_hours) if min_age_hours is not None else None,
        opened_after=now - timedelta(hours=max_age_hours) if max_age_hours is not None else None,
        after=paging.decode_cursor(cursor, (datetime, str)) if cursor is not None else None,
        limit=limit + 1,
        # A key bound to a team reads the cases its team was asked something on, whatever the
        # filters name: another team's case is not in its queue.
        team=principal.team,
    )
    items, next_cursor = paging.page(rows, limit, lambda c: (c.opened_at, c.case_id))
    link_next(request, response, next_cursor)
    return CaseQueuePage(items=[CaseSummary(**_summary(c, now)) for c in items], next=next_cursor)


@router.get("/counts", response_model=CaseCounts, summary="How many cases are in each state")
async def count_cases(
    session: DbSession, principal: Principal = require(*READERS, team_reads=True)
) -> CaseCounts:
    counts = await repository.count_by_state(session, team=principal.team)
    return CaseCounts(by_state={s.value: counts.get(s.value, 0) for s in CaseState})


async def _teams(session: DbSession, principal: Principal, case_id: str) -> bool:
    """Whether this key may read the case: the desk's keys every case, a key bound to a team
    the cases its team was asked something on."""
    return principal.team is None or await repository.is_teams(session, case_id, principal.team)


async def _detail(session: DbSession, case: Case, now: datetime) -> CaseDetail:
    ret = await facts.get_return(session, case.return_id)
    scans = await facts.scans(session, case.return_id)
    escalations = await facts.escalations(session, case.return_id)
    additions = await facts.evidence_additions(session, case.return_id)
    assessments = await facts.all_assessments(session, case.return_id)
    appeals = await facts.appeals(session, case.return_id)
    refunds = await facts.refunds(session, case.return_id)

    def row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}

    transactions = []
    for tx in await ledger.transactions_of_case(session, case.case_id):
        lines = await ledger.entries_of(session, tx.transaction_id)
        transactions.append(
            {
                **row(tx),
                "lines": [row(e, ("transaction_id", "case_id")) for e in lines],
            }
        )
    timeline = await repository.timeline(session, case.case_id)
    return CaseDetail(
        **_summary(case, now),
        decision=case.decision,
        proposal=case.proposal,
        proposal_id=proposal_id(case.proposal),
        proposed_by=case.proposed_by,
        decided_by=case.decided_by,
        facts={
            "return": row(ret) if ret else None,
            "partner_scans": [row(s) for s in scans],
            # The seller's address is PII, and sealed besides: the desk sees that one is on
            # file, not the address nor its sealed form.
            "escalations": [
                {**row(e, ("seller_contact",)), "seller_contact_on_file": bool(e.seller_contact)}
                for e in escalations
            ],
            "evidence_added": [row(a) for a in additions],
            "fraud_assessments": [row(a) for a in assessments],
            "appeals": [row(a) for a in appeals],
            "refunds": [row(r) for r in refunds],
        },
        timeline=[TimelineItem.model_validate(t, from_attributes=True) for t in timeline],
        ledger=transactions,
    )


@router.get("/{case_id}", response_model=CaseDetail, summary="A case with its whole timeline")
async def get_case(
    case_id: IdPath,
    clock: RequestClock,
    session: DbSession,
    principal: Principal = require(*READERS, team_reads=True),
) -> CaseDetail:
    case = await repository.get(session, case_id)
    if case is None or not await _teams(session, principal, case_id):
        # Another team's case answers as an unknown one: a key bound to a team learns nothing
        # of the cases it was not asked about.
        raise Problem(404, "Not found", f"No case {case_id}.")
    return await _detail(session, case, clock.now())


@router.post("/{case_id}/assign", response_model=CaseSummary, summary="Assign an owner")
async def assign(
    case_id: IdPath,
    body: AssignIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.assign(
            change.session,
            case_id=case_id,
            assignee=body.assignee,
            actor=principal.client_id,
            now=change.now(),
        ),
    )


@router.post("/{case_id}/notes", response_model=CaseSummary, summary="Add a note")
async def note(
    case_id: IdPath,
    body: NoteIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.add_note(
            change.session,
            case_id=case_id,
            note=body.note,
            actor=principal.client_id,
            now=change.now(),
        ),
    )


@router.post("/{case_id}/calls", response_model=CaseSummary, summary="Log a call")
async def log_call(
    case_id: IdPath,
    body: CallIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> CaseSummary | Response:
    text = (
        f"{body.direction.title()} call with the {body.counterpart.lower()} "
        f"({body.duration_s // 60} min {body.duration_s % 60} s): {body.summary}"
    )
    return await _once(
        change,
        lambda: service.add_note(
            change.session,
            case_id=case_id,
            note=text,
            actor=principal.client_id,
            now=change.now(),
            kind="CALL_LOGGED",
            data=body.model_dump(),
        ),
    )


@router.post(
    "/{case_id}/evidence-requests",
    response_model=CaseSummary,
    summary="Ask the seller for evidence (the SLA clock pauses)",
)
async def request_evidence(
    case_id: IdPath,
    body: EvidenceRequestIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.request_evidence(
            change.session,
            case_id=case_id,
            checklist=body.checklist,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
        ),
    )


@router.post(
    "/{case_id}/decision",
    response_model=CaseSummary,
    summary="Decide or override, with a reason (above the approval cap: a proposal)",
)
async def decide(
    case_id: IdPath,
    body: DecisionIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.decide(
            change.session,
            case_id=case_id,
            rule_id=body.rule_id,
            liable_party=body.liable_party,
            payout_pct=body.payout_pct,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
        ),
    )


@router.post("/{case_id}/escalate", response_model=CaseSummary, summary="Escalate to management")
async def escalate(
    case_id: IdPath,
    body: EscalateIn,
    change: Change,
    principal: Principal = require(*DESK),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.escalate(
            change.session,
            case_id=case_id,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
        ),
    )


@router.post(
    "/{case_id}/approve",
    response_model=CaseSummary,
    summary="Approve a proposal above the cap (ops_manager, not the proposer)",
)
async def approve(
    case_id: IdPath,
    body: ApproveIn,
    change: Change,
    principal: Principal = require(Role.OPS_MANAGER),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.approve(
            change.session,
            case_id=case_id,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
            approving=body.proposal_id,
        ),
    )


@router.post(
    "/{case_id}/appeal-decision",
    response_model=CaseSummary,
    summary="Decide an appeal (ops_manager, not the original decider)",
)
async def decide_appeal(
    case_id: IdPath,
    body: AppealDecisionIn,
    change: Change,
    principal: Principal = require(Role.OPS_MANAGER),
) -> CaseSummary | Response:
    return await _once(
        change,
        lambda: service.decide_appeal(
            change.session,
            case_id=case_id,
            overturn=body.overturn,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
            liable_party=body.liable_party,
            payout_pct=body.payout_pct,
        ),
    )
