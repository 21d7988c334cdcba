"""The case report management receives on an escalation: one self-contained HTML page with
the facts, the timeline, the fraud reasons, the ledger and the tasks. Every value is escaped;
seller contacts are sealed on the case and never appear."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases import repository as cases
from services.reconciliation.cases.decisions import paid_and_pending
from services.reconciliation.cases.errors import CaseNotFound
from services.reconciliation.facts import repository as facts
from services.reconciliation.facts.service import load_facts
from services.reconciliation.ledger import repository as ledger
from services.reconciliation.tasks import repository as tasks
from shared.money import rupees

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;"
    "vertical-align:top}th{background:#eee}td.num{text-align:right}"
)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{escape(str(v))}</td>'
            if i in numeric
            else f"<td>{escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body or '<tr><td>none</td></tr>'}</table>"


async def case_report(
    session: AsyncSession, *, case_id: str, reason: str, actor: str, now: datetime
) -> str:
    case = await cases.get(session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    snapshot = (await load_facts(session, case=case, return_id=case.return_id)).as_record()
    paid, pending = paid_and_pending(case)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Case {escape(case_id)}"
        f"</title><style>{_STYLE}</style></head><body>",
        f"<h1>Case {escape(case_id)} escalated to management</h1>",
        f"<p><b>Why:</b> {escape(reason)}<br><b>By:</b> {escape(actor)} at "
        f"{escape(now.isoformat())}</p>",
        "<h2>Case</h2>",
        _table(
            ["field", "value"],
            [
                ["return", case.return_id],
                ["seller", case.seller_id],
                ["partner", case.partner_id or ""],
                ["claim", f"{case.claim_type or ''} of {rupees(case.claimed_amount or 0)}"],
                ["state", case.state],
                ["decision", (case.decision or {}).get("rule_id", "none yet")],
                ["policy version", (case.decision or {}).get("policy_version", "")],
                ["paid to seller", rupees(paid)],
                ["decided, awaiting a team to pay", rupees(pending) if pending else "—"],
            ],
        ),
        "<h2>Facts</h2>",
        _table(["fact", "value"], [[k, "" if v is None else v] for k, v in snapshot.items()]),
        "<h2>Scans</h2>",
        _table(
            ["time", "type", "partner", "hub", "weight (g)", "OTP"],
            [
                [
                    s.occurred_at.isoformat(),
                    s.event_type,
                    s.partner_id,
                    s.hub_id or "",
                    s.weight_g if s.weight_g is not None else "",
                    s.pod_otp_verified,
                ]
                for s in await facts.scans(session, case.return_id)
            ],
        ),
        "<h2>Fraud assessments</h2>",
        _table(
            ["assessed", "band", "score", "reasons"],
            [
                [
                    a.assessed_at.isoformat(),
                    a.band,
                    f"{a.score:.2f}",
                    "; ".join(f"{r.get('code')}: {r.get('detail')}" for r in a.reasons),
                ]
                for a in await facts.all_assessments(session, case.return_id)
            ],
        ),
        "<h2>Timeline</h2>",
        _table(
            ["time", "what", "who", "why"],
            [
                [t.occurred_at.isoformat(), t.kind, t.actor, t.reason]
                for t in await cases.timeline(session, case_id)
            ],
        ),
        "<h2>Ledger</h2>",
    ]
    ledger_rows: list[list[Any]] = []
    for tx in await ledger.transactions_of_case(session, case_id):
        for line in await ledger.entries_of(session, tx.transaction_id):
            ledger_rows.append(
                [tx.posted_at.isoformat(), tx.kind, line.account, rupees(line.amount)]
            )
    parts.append(_table(["posted", "kind", "account", "amount"], ledger_rows, {3}))
    parts.append("<h2>Tasks</h2>")
    case_tasks = await tasks.of_case(session, case_id)
    comments = await tasks.comments(session, [t.task_id for t in case_tasks])
    parts.append(
        _table(
            ["team", "ask", "owner", "due", "status", "comments"],
            [
                [
                    t.team,
                    t.ask,
                    t.owner or "",
                    t.due_at.isoformat(),
                    t.status + (" (holds settlement)" if t.blocks_settlement else ""),
                    " | ".join(f"{c.author}: {c.body}" for c in comments if c.task_id == t.task_id),
                ]
                for t in case_tasks
            ],
        )
    )
    parts.append("</body></html>")
    return "".join(parts)
