"""Ledger reads for finance: account balances, a case's postings, partner statements."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from services.reconciliation import api_examples as ex
from services.reconciliation.api_examples import json_example
from services.reconciliation.ledger import repository, statements
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.lookups import IdPath
from shared.problems import Problem
from shared.service_route import ServiceRoute
from shared.validation import Instant

router = APIRouter(route_class=ServiceRoute, prefix="/v1/ledger", tags=["ledger"])

FINANCE = (Role.FINANCE, Role.OPS_MANAGER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATEMENT_CSV = (
    "posted_at,case_id,transaction_id,kind,description,amount\n"
    "2026-11-26T09:30:00+00:00,CASE-RET-1001,3f1c2e8a-5b7d-4c1e-9a2f-6d8b0e4c7a15,DECISION,"
    "L6: damaged in transit,249900\n"
)


@router.get(
    "/balances",
    summary="Balance of every account, in paise (debit positive)",
    responses=json_example(ex.BALANCES),
)
async def balances(session: DbSession, principal: Principal = require(*FINANCE)) -> dict[str, Any]:
    rows = await repository.balances(session)
    return {
        "accounts": [{"account": a, "balance": b} for a, b in rows],
        "total": sum(b for _, b in rows),
    }


@router.get(
    "/cases/{case_id}",
    summary="Every transaction posted for a case",
    responses=json_example(ex.CASE_POSTINGS),
)
async def case_postings(
    case_id: IdPath, session: DbSession, principal: Principal = require(*FINANCE)
) -> dict[str, Any]:
    if not await repository.case_exists(session, case_id):
        # Not an empty list: an id that names no case is refused, as under /v1/cases/{case_id}.
        raise Problem(404, "Not found", f"No case {case_id}.")
    out = []
    for tx in await repository.transactions_of_case(session, case_id):
        lines = await repository.entries_of(session, tx.transaction_id)
        out.append(
            {
                "transaction_id": str(tx.transaction_id),
                "kind": tx.kind,
                "reverses": str(tx.reverses) if tx.reverses else None,
                "policy_version": tx.policy_version,
                "description": tx.description,
                "posted_at": tx.posted_at.isoformat(),
                "lines": [{"account": e.account, "amount": e.amount} for e in lines],
            }
        )
    return {"case_id": case_id, "transactions": out}


@router.get(
    "/partners/{partner_id}/statement",
    summary="What a partner owes for a period (JSON, CSV or XLSX)",
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": ex.STATEMENT},
                "text/csv": {"schema": {"type": "string"}, "example": STATEMENT_CSV},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
async def partner_statement(
    partner_id: IdPath,
    session: DbSession,
    request: Request,
    period_start: Annotated[Instant, Query(description="Inclusive, timezone-aware.")],
    period_end: Annotated[Instant, Query(description="Exclusive, timezone-aware.")],
    format: Literal["json", "csv", "xlsx"] = "json",
    principal: Principal = require(*FINANCE),
) -> Response:
    if period_end <= period_start:
        raise Problem(
            422,
            "Validation failed",
            "period_end must be after period_start.",
            type_="https://disputedesk.dev/problems/validation-failed",
            errors=[{"field": "query.period_end", "message": "must be after period_start"}],
        )
    # Not a statement of zeros: an id that names no partner is refused, as a case's is.
    keyed = request.app.state.keyring.partner_ids()
    await statements.require_known_partner(session, partner_id, keyed=keyed)
    rows = await repository.account_entries(
        session, account=f"partner_receivable:{partner_id}", start=period_start, end=period_end
    )
    statement = statements.build(partner_id, period_start, period_end, rows)
    filename = f"statement-{partner_id}-{period_start:%Y%m%d}-{period_end:%Y%m%d}"
    if format == "csv":
        return Response(
            statements.to_csv(statement),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if format == "xlsx":
        return Response(
            statements.to_xlsx(statement),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    return JSONResponse(statement.as_json())
