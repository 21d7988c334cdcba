"""Examples for the OpenAPI document of the routes that answer plain JSON objects (ledger,
policies, reports): their models cannot show a caller what comes back, so these do. Amounts
are paise, times UTC, as the routes answer them."""

from __future__ import annotations

from typing import Any


def json_example(value: Any) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's 200 answer with this example."""
    return {200: {"content": {"application/json": {"example": value}}}}


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
