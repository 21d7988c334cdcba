"""Examples for the OpenAPI document of the routes that answer plain JSON objects (ledger,
policies, reports): their models cannot show a caller what comes back, so these do. Amounts
are paise, times UTC, as the routes answer them."""

from __future__ import annotations

from typing import Any


def json_example(value: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's success answer (200 unless told) with this example."""
    return {status: {"content": {"application/json": {"example": value}}}}


BALANCES = {
    "accounts": [
        {"account": "seller_payable:S-1001", "balance": -249_900},
        {"account": "partner_receivable:swiftship", "balance": 249_900},
    ],
    "total": 0,
}
CASE_POSTINGS = {
    "case_id": "CASE-RET-1001",
    "transactions": [
        {
            "transaction_id": "3f1c2e8a-5b7d-4c1e-9a2f-6d8b0e4c7a15",
            "kind": "DECISION",
            "reverses": None,
            "policy_version": "sop-v1",
            "description": "L6: damaged in transit, partner liable",
            "posted_at": "2026-11-26T09:30:00+00:00",
            "lines": [
                {"account": "partner_receivable:swiftship", "amount": 249_900},
                {"account": "seller_payable:S-1001", "amount": -249_900},
            ],
        }
    ],
}
STATEMENT = {
    "partner_id": "swiftship",
    "account": "partner_receivable:swiftship",
    "period_start": "2026-11-01T00:00:00+00:00",
    "period_end": "2026-12-01T00:00:00+00:00",
    "currency": "INR",
    "amounts_in": "paise",
    "lines": [
        {
            "posted_at": "2026-11-26T09:30:00+00:00",
            "case_id": "CASE-RET-1001",
            "transaction_id": "3f1c2e8a-5b7d-4c1e-9a2f-6d8b0e4c7a15",
            "kind": "DECISION",
            "description": "L6: damaged in transit, partner liable",
            "amount": 249_900,
        }
    ],
    "totals": {"debits": 249_900, "credits": 0, "net_receivable": 249_900, "lines": 1},
}
POLICIES = [
    {
        "version": "sop-v1",
        "status": "ACTIVE",
        "in_force": True,
        "based_on": None,
        "effective_at": "2026-11-01T00:00:00+00:00",
        "proposed_by": None,
        "proposed_at": None,
        "approved_by": None,
        "adopted_at": "2026-11-01T00:00:00+00:00",
        "retired_at": None,
        "what_if_summary": None,
    },
    {
        "version": "sop-v1.1-draft",
        "status": "DRAFT",
        "in_force": False,
        "based_on": "sop-v1",
        "effective_at": None,
        "proposed_by": None,
        "proposed_at": None,
        "approved_by": None,
        "adopted_at": None,
        "retired_at": None,
        "what_if_summary": None,
    },
]
POLICY_CHANGES = [
    {
        "version": "sop-v1.1-draft",
        "action": "DRAFTED",
        "actor": "manager.ravi",
        "reason": "Sellers in remote pin codes need more time to file",
        "diff": [{"field": "windows.claim_window_h", "from": 72, "to": 120}],
        "effective_at": None,
        "at": "2026-11-20T10:00:00+00:00",
    }
]
POLICY = {
    "version": "sop-v1.1-draft",
    "status": "DRAFT",
    "adopted_at": None,
    "definition": {"version": "sop-v1.1-draft", "windows": {"claim_window_h": 120}},
}
DRAFT = {
    "version": "sop-v1.1-draft",
    "status": "DRAFT",
    "based_on": "sop-v1",
    "changes": [{"field": "windows.claim_window_h", "from": 72, "to": 120}],
    "definition": {"version": "sop-v1.1-draft", "windows": {"claim_window_h": 120}},
}
_TOTALS = {
    "cases": 120,
    "decided": 96,
    "needs_approval": 6,
    "rejected": 12,
    "review": 6,
    "payout": 18_450_000,
    "partner_debit": 9_120_000,
    "buyer_receivable": 640_000,
    "marketplace_cost": 8_690_000,
}
WHAT_IF = {
    "draft_version": "sop-v1.1-draft",
    "policy_changes": [{"field": "windows.claim_window_h", "from": 72, "to": 120}],
    "cases": 120,
    "changed": 4,
    "current": _TOTALS,
    "draft": {**_TOTALS, "decided": 100, "rejected": 8, "payout": 19_210_000},
    "delta": {key: 0 for key in _TOTALS} | {"decided": 4, "rejected": -4, "payout": 760_000},
    "transitions": [
        {"change": "E2 REJECTED CLAIM_WINDOW → L6 DECIDED GRANTED", "cases": 4, "payout": 760_000}
    ],
    "samples": [
        {
            "case_id": "CASE-RET-1001",
            "current": {"result": "REJECTED", "rule_id": "E2", "payout": 0},
            "draft": {"result": "DECIDED", "rule_id": "L6", "payout": 190_000},
        }
    ],
    "skipped": {},
}
_FIGURES = {
    "escalations": 42,
    "repeat_sellers": 3,
    "repeat_escalations": 4,
    "cases_opened": 45,
    "fraud_hits": 2,
    "decided": 38,
    "auto_decided": 30,
    "auto_decision_rate": 0.79,
    "approved": 31,
    "approval_rate": 0.82,
    "rejected": 7,
    "turnaround_h_p50": 20.5,
    "turnaround_h_p90": 61.0,
    "sla_breached": 1,
    "sla_adherence": 0.97,
    "payout": 6_120_000,
    "partner_recovery": 3_050_000,
    "buyer_recovery": 120_000,
    "recovery_rate": 0.52,
    "marketplace_cost": 2_950_000,
}
KPIS = {
    "start": "2026-11-23T00:00:00+00:00",
    "end": "2026-11-30T00:00:00+00:00",
    "period": "week",
    "by": "partner",
    "amounts_in": "paise",
    "totals": _FIGURES,
    "rows": [{"period": "2026-11-23", "partner": "swiftship", **_FIGURES}],
}
RECURRING = {
    "as_of": "2026-11-30T00:00:00+00:00",
    "window_days": 7,
    "problems": [
        {
            "dimension": "hub",
            "value": "HUB-BLR-1",
            "cases": 14,
            "expected": 3.2,
            "ratio": 4.38,
            "p_value": 2.1e-06,
            "top_rule": "L6",
            "top_rule_share": 0.786,
            "payout": 2_100_000,
            "recommendation": "Audit handling at the hub: most cases end under L6.",
        }
    ],
}

# --- policy lifecycle -------------------------------------------------------------------------

_WHAT_IF_SUMMARY = {
    "cases_judged": 120,
    "cases_changed": 4,
    "payout_delta": 760_000,
    "partner_debit_delta": 0,
    "marketplace_cost_delta": 0,
    "partners_affected": ["swiftship"],
}
PROPOSED = {
    **POLICIES[1],
    "status": "PROPOSED",
    "effective_at": "2026-12-01T00:00:00+00:00",
    "proposed_by": "manager.ravi",
    "proposed_at": "2026-11-24T10:00:00+00:00",
    "what_if_summary": _WHAT_IF_SUMMARY,
    "what_if": {
        "computed_at": "2026-11-24T10:00:00+00:00",
        "summary": _WHAT_IF_SUMMARY,
        "report": WHAT_IF,
    },
}
ADOPTED = {
    **POLICIES[1],
    "status": "ACTIVE",
    "effective_at": "2026-12-01T00:00:00+00:00",
    "proposed_by": "manager.ravi",
    "proposed_at": "2026-11-24T10:00:00+00:00",
    "approved_by": "manager.anita",
    "adopted_at": "2026-11-25T09:00:00+00:00",
    "what_if_summary": _WHAT_IF_SUMMARY,
}
RETIRED = {
    **ADOPTED,
    "status": "RETIRED",
    "in_force": False,
    "retired_at": "2026-12-20T09:00:00+00:00",
}

# --- partner disputes -------------------------------------------------------------------------

PARTNER_ENDPOINT = {
    "partner_id": "swiftship",
    "url": "https://partners.swiftship.example/disputedesk/notices",
    "scheme": "standard_webhooks",
    "enabled": True,
    "has_finance_contact": True,
    "updated_at": "2026-11-20T10:00:00+00:00",
}
NOTICE = {
    "notice_id": "8b3e6f2a-1c4d-4e5f-9a7b-2d6c8e0f1a3b",
    "case_id": "CASE-RET-1001",
    "partner_id": "swiftship",
    "amount": 249_900,
    "rule_id": "L6",
    "policy_version": "sop-v1",
    "delivery": "DELIVERED",
    "attempts": 1,
    "next_attempt_at": None,
    "delivered_at": "2026-11-26T09:30:04+00:00",
    "dispute": "OPEN",
    "contest_by": "2026-12-10T09:30:00+00:00",
    "final_at": None,
    "withdrawn_at": None,
    "reversed_amount": 0,
    "created_at": "2026-11-26T09:30:00+00:00",
}
CONTEST = {
    "contest_id": "5d2a7c9e-3b1f-4a6d-8e0c-7f9b1d3e5a2c",
    "reason": "The parcel was weighed at 1.2 kg at handover; the seller's scale is wrong",
    "evidence": [{"uri": "https://partners.swiftship.example/pod/AWB1001", "sha256": "ab" * 32}],
    "filed_by": "partner.swiftship",
    "filed_at": "2026-11-28T11:00:00+00:00",
    "outcome": None,
    "reversed_amount": None,
    "ruling": None,
    "decided_by": None,
    "decided_at": None,
    "reversal_id": None,
}
RULED = {
    **CONTEST,
    "outcome": "PARTIAL",
    "reversed_amount": 100_000,
    "ruling": "Handover weight supports part of the claim",
    "decided_by": "manager.ravi",
    "decided_at": "2026-11-30T15:00:00+00:00",
    "reversal_id": "9c4e1a7b-6d2f-4b8e-a3c5-1e7f9b2d4a6c",
}
_NOTICE_PAYLOAD = {
    "type": "partner.debit_notice.v1",
    "notice_id": NOTICE["notice_id"],
    "partner_id": "swiftship",
    "case_id": "CASE-RET-1001",
    "amount": 249_900,
    "currency": "INR",
    "amounts_in": "paise",
}
NOTICE_DETAIL = {
    **NOTICE,
    "payload": _NOTICE_PAYLOAD,
    "attempts_log": [
        {
            "attempted_at": "2026-11-26T09:30:04+00:00",
            "url": PARTNER_ENDPOINT["url"],
            "status_code": 200,
            "error": None,
            "duration_ms": 182,
        }
    ],
    "contest": CONTEST,
}
PARTNER_NOTICE = {
    **{key: value for key, value in NOTICE_DETAIL.items() if key != "attempts_log"},
    # Who ruled (a person at the marketplace) and the ledger's reversal id are not the
    # partner's (disputes/router.py, PARTNER_CONTEST).
    "contest": {
        key: value for key, value in CONTEST.items() if key not in ("decided_by", "reversal_id")
    },
}
DEBIT_STATEMENT = {
    "partner_id": "swiftship",
    "month": "2026-11",
    "currency": "INR",
    "amounts_in": "paise",
    "opening_balance": 0,
    "debits": 249_900,
    "contests": {"filed": 1, "amount": 249_900},
    "reversals": -100_000,
    "closing_balance": 149_900,
    "lines": [
        {
            "posted_at": "2026-11-26T09:30:00+00:00",
            "case_id": "CASE-RET-1001",
            "kind": "SETTLEMENT",
            "description": "Debit: the case was decided with your company liable",
            "amount": 249_900,
        }
    ],
    "contest_lines": [
        {
            "filed_at": "2026-11-28T11:00:00+00:00",
            "notice_id": NOTICE["notice_id"],
            "case_id": "CASE-RET-1001",
            "amount": 249_900,
            "outcome": "PARTIAL",
            "reversed_amount": 100_000,
        }
    ],
}
DEBIT_STATEMENT_CSV = (
    "partner,swiftship,month,2026-11,amounts in paise\r\n"
    "opening balance,0\r\n"
    "\r\n"
    "posted_at,case_id,kind,description,amount\r\n"
    "2026-11-26T09:30:00+00:00,CASE-RET-1001,SETTLEMENT,"
    "Debit: the case was decided with your company liable,249900\r\n"
    "\r\n"
    "debits,249900\r\n"
    "contests filed,1\r\n"
    "reversals,-100000\r\n"
    "closing balance,149900\r\n"
)

# --- cross-team tasks -------------------------------------------------------------------------

TASK = {
    "task_id": "2e7a9c1f-4b6d-4d8e-b0a2-5c3f7e9a1b4d",
    "case_id": "CASE-RET-1001",
    "team": "finance",
    "ask": "Confirm the payout of 2,499.00 INR before it settles",
    "owner": None,
    "due_at": "2026-11-27T09:30:00+00:00",
    "status": "OPEN",
    "blocks_settlement": True,
    "hold_kind": "FINANCE_PAYOUT",
    "created_by": "system",
    "created_at": "2026-11-26T09:30:00+00:00",
    "closed_by": None,
    "closed_at": None,
    "resolution": None,
    "overdue_alerted_at": None,
}
TASK_DONE = {
    **TASK,
    "status": "DONE",
    "closed_by": "finance.meera",
    "closed_at": "2026-11-26T14:00:00+00:00",
    "resolution": "Payout confirmed against the invoice",
}
TASK_CANCELLED = {
    **TASK,
    "team": "warehouse",
    "ask": "Check the returned parcel's contents",
    "blocks_settlement": False,
    "hold_kind": None,
    "created_by": "agent.priya",
    "status": "CANCELLED",
    "closed_by": "agent.priya",
    "closed_at": "2026-11-26T11:00:00+00:00",
    "resolution": "No longer needed: the partner's photos settle it",
}
TASK_WITH_COMMENTS = {
    **TASK,
    "comments": [
        {
            "author": "finance.meera",
            "body": "Looking at the invoice now",
            "at": "2026-11-26T10:15:00+00:00",
        }
    ],
}
TASK_COMMENT = {
    "task_id": TASK["task_id"],
    "author": "finance.meera",
    "body": "Looking at the invoice now",
}
MANAGEMENT_TASK: dict[str, Any] = {
    **TASK,
    "team": "management",
    "ask": "Seller disputes the weight at pickup; third appeal this month",
    "blocks_settlement": False,
    "hold_kind": None,
    "created_by": "agent.priya",
    "comments": [],
    "report": "/v1/cases/CASE-RET-1001/report",
}
TASK_METRICS = {
    "as_of": "2026-11-26T12:00:00+00:00",
    "teams": [
        {
            "team": "finance",
            "open": 3,
            "overdue": 1,
            "done": 12,
            "median_hours_to_close": 4.5,
            "mean_hours_to_close": 6.25,
        }
    ],
}
CASE_REPORT_HTML = (
    "<!doctype html><html><head><title>Case CASE-RET-1001</title></head>"
    "<body><h1>Case CASE-RET-1001</h1><p>Escalated to management: on request.</p></body></html>"
)
