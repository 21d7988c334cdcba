"""A partner's monthly statement: opening balance, debits, contests, reversals, closing balance,
as JSON, CSV or an Excel workbook. Amounts are integer paise (the workbook shows rupees)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.disputes import repository
from services.reconciliation.disputes.errors import StatementMonthNotOver
from services.reconciliation.ledger import repository as ledger
from services.reconciliation.ledger.statements import require_known_partner, statement_workbook
from services.reconciliation.models import Outbox
from shared.events import STATEMENT_CSV_MAX_CHARS, PartnerStatementIssued
from shared.outbox import enqueue

SOURCE = "disputedesk/reconciliation"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(slots=True)
class MonthlyStatement:
    partner_id: str
    month: str
    opening: int
    lines: list[dict[str, Any]] = field(default_factory=list)
    contests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def debits(self) -> int:
        return sum(int(line["amount"]) for line in self.lines if line["amount"] > 0)

    @property
    def reversals(self) -> int:
        return -sum(int(line["amount"]) for line in self.lines if line["amount"] < 0)

    @property
    def closing(self) -> int:
        return self.opening + self.debits - self.reversals

    def as_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "month": self.month,
            "currency": "INR",
            "amounts_in": "paise",
            "opening_balance": self.opening,
            "debits": self.debits,
            "contests": {
                "filed": len(self.contests),
                "amount": sum(c["amount"] for c in self.contests),
            },
            "reversals": self.reversals,
            "closing_balance": self.closing,
            "lines": self.lines,
            "contest_lines": self.contests,
        }


async def build(session: AsyncSession, partner_id: str, month: str) -> MonthlyStatement:
    start, end = month_bounds(month)
    account = f"partner_receivable:{partner_id}"
    statement = MonthlyStatement(
        partner_id, month, await repository.balance_before(session, account, start)
    )
    for entry, tx in await ledger.account_entries(session, account=account, start=start, end=end):
        # The statement is the partner's (its key reads it, finance emails it): the ledger's
        # own transaction ids and descriptions (which name other transactions) stay in the
        # ledger's statement (`/v1/ledger/partners/{id}/statement`, finance's).
        statement.lines.append(
            {
                "posted_at": entry.posted_at.isoformat(),
                "case_id": entry.case_id,
                "kind": tx.kind,
                "description": partner_wording(tx.kind, entry.amount),
                "amount": entry.amount,
            }
        )
    for contest, notice in await repository.contests_filed(session, partner_id, start, end):
        statement.contests.append(
            {
                "filed_at": contest.filed_at.isoformat(),
                "notice_id": str(notice.notice_id),
                "case_id": notice.case_id,
                "amount": notice.amount,
                "outcome": contest.outcome or "PENDING",
                "reversed_amount": contest.reversed_amount or 0,
            }
        )
    return statement


_LINE_COLUMNS = ("posted_at", "case_id", "kind", "description", "amount")


def partner_wording(kind: str, amount: int) -> str:
    """What a line of its account means, in the partner's words (a debit is positive)."""
    if kind == "SETTLEMENT":
        return "Debit: the case was decided with your company liable"
    if kind == "CONTEST_REVERSAL":
        return "Your contest was ruled: this part of the debit is taken off"
    if kind == "REVERSAL" and amount < 0:
        return "Debit reversed: the case's decision was overturned on appeal"
    if kind == "REVERSAL":
        return (
            "A contest's reversal undone: the case's decision was overturned on appeal and "
            "its debit reversed as a whole"
        )
    return kind.replace("_", " ").capitalize()


def to_csv(s: MonthlyStatement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["partner", s.partner_id, "month", s.month, "amounts in paise"])
    writer.writerow(["opening balance", s.opening])
    writer.writerow([])
    writer.writerow(_LINE_COLUMNS)
    for line in s.lines:
        writer.writerow([line[c] for c in _LINE_COLUMNS])
    writer.writerow([])
    writer.writerow(["debits", s.debits])
    writer.writerow(["contests filed", len(s.contests)])
    writer.writerow(["reversals", s.reversals])
    writer.writerow(["closing balance", s.closing])
    return out.getvalue()


def to_xlsx(s: MonthlyStatement) -> bytes:
    return statement_workbook(
        title=f"Debit statement — {s.partner_id} — {s.month}",
        opening=s.opening,
        columns=(
            ("Posted at (UTC)", "posted_at"),
            ("Case", "case_id"),
            ("Kind", "kind"),
            ("Description", "description"),
        ),
        lines=s.lines,
        totals=(("Debits", s.debits), ("Reversals", s.reversals), ("Closing balance", s.closing)),
        counts=(("Contests filed", len(s.contests)),),
        widths=((0, 0, 26), (1, 1, 38), (3, 3, 50), (4, 4, 14)),
        landscape=True,
    )


async def issue(
    session: AsyncSession,
    *,
    partner_id: str,
    month: str,
    actor: str,
    now: datetime,
    keyed: frozenset[str],
) -> PartnerStatementIssued:
    """Finance issues a finished month's statement: published for notifications, which emails
    it (CSV attached) to the partner's finance contact, once per partner and month."""
    await require_known_partner(session, partner_id, keyed=keyed)
    if now < month_bounds(month)[1]:
        raise StatementMonthNotOver(month)
    s = await build(session, partner_id, month)
    csv_text = to_csv(s)
    event = PartnerStatementIssued(
        statement_id=uuid5(NAMESPACE_URL, f"disputedesk:statement:{partner_id}:{month}"),
        partner_id=partner_id,
        month=month,
        opening_balance=s.opening,
        debits=s.debits,
        reversals=s.reversals,
        contests_filed=len(s.contests),
        contests_amount=sum(int(c["amount"]) for c in s.contests),
        closing_balance=s.closing,
        lines=len(s.lines),
        statement_csv=csv_text if len(csv_text) <= STATEMENT_CSV_MAX_CHARS else None,
        issued_by=actor,
        issued_at=now,
    )
    enqueue(session, Outbox, event, source=SOURCE, subject=partner_id, time=now)
    return event
