"""HTTP of partner disputes: the notice endpoints (admin), the desk's view and rulings, and the
partner's own view (its key sees and contests only its own notices and statements)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from services.reconciliation import api_examples as ex
from services.reconciliation.api_examples import json_example
from services.reconciliation.disputes import repository, service, statements
from services.reconciliation.disputes.schemas import ContestIn, EnabledIn, EndpointIn, RulingIn
from services.reconciliation.ledger.statements import require_known_partner
from services.reconciliation.models import DebitNotice, NoticeContest, PartnerEndpoint
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.events import Id
from shared.idempotency import Change
from shared.lookups import IdPath, IdQuery
from shared.paging import Cursor, Limit, PageOf, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["partner disputes"])

DESK_READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)
RULERS = (Role.OPS_MANAGER,)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# `format` picks one of these for a statement's 200 answer.
STATEMENT_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {"example": ex.DEBIT_STATEMENT},
            "text/csv": {"example": ex.DEBIT_STATEMENT_CSV},
            XLSX: {},
        }
    }
}
# A partner is named as intake's registry registered it (an `Id`, the case kept): a narrower
# pattern here left a partner registered as `FastLane` without notice endpoints or statements.
PartnerId = IdPath
Month = Annotated[str, Path(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class EndpointPage(PageOf):
    """A page of notice endpoints, by partner id (docs/api.md, "Paging")."""

    items: list[dict[str, Any]]


class NoticePage(PageOf):
    """A page of debit notices, newest first (docs/api.md, "Paging")."""

    items: list[dict[str, Any]]


ISSUED_EXAMPLE: dict[str, Any] = {
    "statement_id": "5a0e4c2b-9d1f-5b7a-8e36-1c2d3e4f5a6b",
    "partner_id": "swiftship",
    "month": "2026-11",
    "opening_balance": 1_250_000,
    "debits": 480_000,
    "reversals": 90_000,
    "contests_filed": 2,
    "contests_amount": 150_000,
    "closing_balance": 1_640_000,
    "lines": 7,
    "issued_by": "finance-1",
    "issued_at": "2026-12-01T04:30:00+00:00",
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _endpoint(row: PartnerEndpoint) -> dict[str, Any]:
    return {
        "partner_id": row.partner_id,
        "url": row.url,
        "scheme": row.scheme,
        "enabled": row.enabled,
        "has_finance_contact": row.finance_contact is not None,
        "updated_at": _iso(row.updated_at),
    }


def _notice(row: DebitNotice) -> dict[str, Any]:
    return {
        "notice_id": str(row.notice_id),
        "case_id": row.case_id,
        "partner_id": row.partner_id,
        "amount": row.amount,
        "rule_id": row.rule_id,
        "policy_version": row.policy_version,
        "delivery": row.delivery,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "delivered_at": _iso(row.delivered_at),
        "dispute": row.dispute,
        "contest_by": _iso(row.contest_by),
        "final_at": _iso(row.final_at),
        "withdrawn_at": _iso(row.withdrawn_at),
        "reversed_amount": row.reversed_amount,
        "created_at": _iso(row.created_at),
    }


def _contest(row: NoticeContest | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "contest_id": str(row.contest_id),
        "reason": row.reason,
        "evidence": row.evidence,
        "filed_by": row.filed_by,
        "filed_at": _iso(row.filed_at),
        "outcome": row.outcome,
        "reversed_amount": row.reversed_amount,
        "ruling": row.ruling,
        "decided_by": row.decided_by,
        "decided_at": _iso(row.decided_at),
        "reversal_id": str(row.reversal_id) if row.reversal_id else None,
    }


# What a partner's key reads of a notice and of its contest: named here, field by field, so a
# field added for the desk (a ledger id, who ruled, our delivery log) never reaches a partner
# by default.
PARTNER_NOTICE = (
    "notice_id",
    "case_id",
    "partner_id",
    "amount",
    "rule_id",
    "policy_version",
    "delivery",
    "attempts",
    "next_attempt_at",
    "delivered_at",
    "dispute",
    "contest_by",
    "final_at",
    "withdrawn_at",
    "reversed_amount",
    "created_at",
)
PARTNER_CONTEST = (
    "contest_id",
    "reason",
    "evidence",
    "filed_by",
    "filed_at",
    "outcome",
    "reversed_amount",
    "ruling",
    "decided_at",
)


def _partner_notice(notice: dict[str, Any]) -> dict[str, Any]:
    return {key: notice[key] for key in PARTNER_NOTICE}


async def _detail(session: Any, row: DebitNotice) -> dict[str, Any]:
    return {
        **_notice(row),
        "payload": row.payload,
        "attempts_log": [
            {
                "attempted_at": _iso(a.attempted_at),
                "url": a.url,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in await repository.attempts(session, row.notice_id)
        ],
        "contest": _contest(await repository.contest_of(session, row.notice_id)),
    }


def _own_partner(principal: Principal) -> str:
    if principal.partner_id is None:
        # A partner key names its partner in the keyring; one that does not acts for nobody.
        raise Problem(403, "Forbidden", "This key holds the partner role but no partner_id.")
    return principal.partner_id


async def _statement_response(session: Any, partner_id: str, month: str, format: str) -> Response:
    statement = await statements.build(session, partner_id, month)
    name = f"debit-statement-{partner_id}-{month}"
    if format == "csv":
        return Response(
            statements.to_csv(statement),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        return Response(
            statements.to_xlsx(statement),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return JSONResponse(statement.as_json())


# --- notice endpoints (admin) -----------------------------------------------------------------


@router.put(
    "/v1/partner-endpoints/{partner_id}",
    response_model=dict[str, Any],
    summary="Register where a partner receives debit notices and how they are signed",
    responses=json_example(ex.PARTNER_ENDPOINT),
)
async def put_endpoint(
    partner_id: PartnerId,
    body: EndpointIn,
    change: Change,
    principal: Principal = require(Role.ADMIN),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        row = await service.register_endpoint(
            change.session,
            partner_id=partner_id,
            url=str(body.url),
            scheme=body.scheme,
            secret=body.secret,
            enabled=body.enabled,
            finance_contact=body.finance_contact,
            now=change.now(),
        )
        return _endpoint(row)

    return await change.once(run)


@router.post(
    "/v1/partner-endpoints/{partner_id}/enabled",
    response_model=dict[str, Any],
    summary="Enable or disable an endpoint: disabling parks its notices, enabling resumes them",
    responses=json_example(ex.PARTNER_ENDPOINT),
)
async def set_enabled(
    partner_id: PartnerId,
    body: EnabledIn,
    change: Change,
    principal: Principal = require(Role.ADMIN),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        row = await service.set_enabled(
            change.session, partner_id=partner_id, enabled=body.enabled, now=change.now()
        )
        return _endpoint(row)

    return await change.once(run)


@router.get(
    "/v1/partner-endpoints",
    response_model=EndpointPage,
    summary="Every notice endpoint, by partner id (secrets never shown)",
    responses=json_example({"items": [ex.PARTNER_ENDPOINT], "next": None}),
)
async def list_endpoints(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(Role.ADMIN),
) -> EndpointPage:
    endpoints = [_endpoint(r) for r in await repository.endpoints(session)]
    items, next_cursor = paging.page_of_list(
        endpoints, limit=limit, cursor=cursor, key=lambda e: (str(e["partner_id"]),)
    )
    link_next(request, response, next_cursor)
    return EndpointPage(items=items, next=next_cursor)


async def _notice_page(
    request: Request,
    response: Response,
    session: Any,
    *,
    limit: int,
    cursor: str | None,
    partner_id: str | None,
    delivery: str | None = None,
    dispute: str | None = None,
    case_id: str | None = None,
    for_partner: bool = False,
) -> NoticePage:
    rows = await repository.notices(
        session,
        partner_id=partner_id,
        delivery=delivery,
        dispute=dispute,
        case_id=case_id,
        after=paging.decode_cursor(cursor, (datetime, UUID)) if cursor is not None else None,
        limit=limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda n: (n.created_at, n.notice_id))
    link_next(request, response, next_cursor)
    shape = (lambda r: _partner_notice(_notice(r))) if for_partner else _notice
    return NoticePage(items=[shape(r) for r in items], next=next_cursor)


# --- the desk ---------------------------------------------------------------------------------


@router.get(
    "/v1/partner-notices",
    response_model=NoticePage,
    summary="Debit notices, filtered, newest first (DEAD: the dead-letter list)",
    responses=json_example({"items": [ex.NOTICE], "next": None}),
)
async def list_notices(
    request: Request,
    response: Response,
    session: DbSession,
    partner_id: IdQuery = None,
    delivery: Literal["PENDING", "DELIVERED", "PARKED", "DEAD"] | None = None,
    dispute: Literal["OPEN", "CONTESTED", "FINAL", "UPHELD", "REVERSED", "PARTIAL", "WITHDRAWN"]
    | None = None,
    case_id: Annotated[Id | None, Query(description="The notices of one case (its page).")] = None,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*DESK_READERS),
) -> NoticePage:
    return await _notice_page(
        request,
        response,
        session,
        limit=limit,
        cursor=cursor,
        partner_id=partner_id,
        delivery=delivery,
        dispute=dispute,
        case_id=case_id,
    )


@router.get(
    "/v1/partner-notices/{notice_id}",
    summary="A notice, every delivery attempt, contest",
    responses=json_example(ex.NOTICE_DETAIL),
)
async def get_notice(
    notice_id: UUID, session: DbSession, principal: Principal = require(*DESK_READERS)
) -> dict[str, Any]:
    return await _detail(session, await service.owned_notice(session, notice_id, partner_id=None))


@router.post(
    "/v1/partner-notices/{notice_id}/redeliver",
    response_model=dict[str, Any],
    summary="Put a dead-lettered notice back in the queue",
    responses=json_example({**ex.NOTICE, "delivery": "PENDING", "delivered_at": None}),
)
async def redeliver(
    notice_id: UUID,
    change: Change,
    principal: Principal = require(*RULERS),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        return _notice(
            await service.redeliver(change.session, notice_id=notice_id, now=change.now())
        )

    return await change.once(run)


@router.post(
    "/v1/partner-notices/{notice_id}/ruling",
    response_model=dict[str, Any],
    summary="Rule on a partner's contest: UPHELD, REVERSED or PARTIAL (with a ledger reversal)",
    responses=json_example(ex.RULED),
)
async def rule(
    notice_id: UUID,
    body: RulingIn,
    change: Change,
    principal: Principal = require(*RULERS),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        row = await service.rule(
            change.session,
            notice_id=notice_id,
            outcome=body.outcome,
            reversed_amount=body.reversed_amount,
            reason=body.reason,
            actor=principal.client_id,
            now=change.now(),
        )
        return _contest(row) or {}

    return await change.once(run)


@router.get(
    "/v1/partner-statements/{partner_id}/{month}",
    summary="A partner's monthly debit statement (JSON, CSV or XLSX)",
    response_class=Response,
    responses=STATEMENT_FORMATS,
)
async def desk_statement(
    partner_id: PartnerId,
    month: Month,
    session: DbSession,
    request: Request,
    format: Literal["json", "csv", "xlsx"] = "json",
    principal: Principal = require(Role.FINANCE, Role.OPS_MANAGER),
) -> Response:
    keyed = request.app.state.keyring.partner_ids()
    await require_known_partner(session, partner_id, keyed=keyed)
    return await _statement_response(session, partner_id, month, format)


@router.post(
    "/v1/partner-statements/{partner_id}/{month}/issue",
    status_code=202,
    response_model=dict[str, Any],
    summary="Issue a finished month's statement: emailed (CSV) to the partner's finance contact",
    responses={202: {"content": {"application/json": {"example": ISSUED_EXAMPLE}}}},
)
async def issue_statement(
    partner_id: PartnerId,
    month: Month,
    change: Change,
    principal: Principal = require(Role.FINANCE),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        event = await statements.issue(
            change.session,
            partner_id=partner_id,
            month=month,
            actor=principal.client_id,
            now=change.now(),
            keyed=change.request.app.state.keyring.partner_ids(),
        )
        return event.model_dump(mode="json", exclude={"statement_csv", "type"})

    return await change.once(run, status_code=202)


# --- the partner's own view -------------------------------------------------------------------


@router.get(
    "/v1/partner/notices",
    response_model=NoticePage,
    summary="This partner's debit notices, newest first",
    responses=json_example({"items": [ex.NOTICE], "next": None}),
)
async def my_notices(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(Role.PARTNER),
) -> NoticePage:
    return await _notice_page(
        request,
        response,
        session,
        limit=limit,
        cursor=cursor,
        partner_id=_own_partner(principal),
        for_partner=True,
    )


@router.get(
    "/v1/partner/notices/{notice_id}",
    summary="One of this partner's notices",
    responses=json_example(ex.PARTNER_NOTICE),
)
async def my_notice(
    notice_id: UUID, session: DbSession, principal: Principal = require(Role.PARTNER)
) -> dict[str, Any]:
    row = await service.owned_notice(session, notice_id, partner_id=_own_partner(principal))
    contest = _contest(await repository.contest_of(session, row.notice_id))
    # Our delivery log is ours (the partner saw the requests); who ruled is a person at the
    # marketplace, as in the ruling message; the reversal is a ledger transaction of ours.
    return {
        **_partner_notice(_notice(row)),
        "payload": row.payload,
        "contest": None if contest is None else {key: contest[key] for key in PARTNER_CONTEST},
    }


@router.post(
    "/v1/partner/notices/{notice_id}/contest",
    status_code=201,
    response_model=dict[str, Any],
    summary="Contest a debit within the window, with a reason and evidence",
    responses=json_example(ex.PARTNER_NOTICE["contest"], status=201),
)
async def contest(
    notice_id: UUID,
    body: ContestIn,
    change: Change,
    principal: Principal = require(Role.PARTNER),
) -> dict[str, Any] | Response:
    async def run() -> dict[str, Any]:
        row = await service.contest(
            change.session,
            notice_id=notice_id,
            partner_id=_own_partner(principal),
            reason=body.reason,
            evidence=[e.model_dump(mode="json") for e in body.evidence],
            actor=principal.client_id,
            now=change.now(),
        )
        filed = _contest(row) or {}
        # The partner's fields alone, as on its notice: who rules and the ledger's reversal
        # are the marketplace's (both empty at filing, but the shape is the partner's).
        return {key: filed[key] for key in PARTNER_CONTEST if key in filed}

    return await change.once(run, status_code=201)


@router.get(
    "/v1/partner/statements/{month}",
    summary="This partner's monthly debit statement (JSON, CSV or XLSX)",
    response_class=Response,
    responses=STATEMENT_FORMATS,
)
async def my_statement(
    month: Month,
    session: DbSession,
    format: Literal["json", "csv", "xlsx"] = "json",
    principal: Principal = require(Role.PARTNER),
) -> Response:
    return await _statement_response(session, _own_partner(principal), month, format)
