"""Partner statements: what a partner owes for a period, as JSON, CSV or an Excel workbook."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.ledger import repository
from services.reconciliation.ledger.errors import PartnerNotFound
from services.reconciliation.models import LedgerEntry, LedgerTransaction


@dataclass(slots=True)
class Statement:
    partner_id: str
    period_start: datetime
    period_end: datetime
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        debits = sum(line["amount"] for line in self.lines if line["amount"] > 0)
        credits = -sum(line["amount"] for line in self.lines if line["amount"] < 0)
        return {
            "debits": debits,
            "credits": credits,
            "net_receivable": debits - credits,
            "lines": len(self.lines),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "account": f"partner_receivable:{self.partner_id}",
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "currency": "INR",
            "amounts_in": "paise",
            "lines": self.lines,
            "totals": self.totals,
        }


COLUMNS = ("posted_at", "case_id", "transaction_id", "kind", "description", "amount")


def build(
    partner_id: str,
    start: datetime,
    end: datetime,
    rows: list[tuple[LedgerEntry, LedgerTransaction]],
) -> Statement:
    statement = Statement(partner_id, start, end)
    for entry, tx in rows:
        statement.lines.append(
            {
                "posted_at": entry.posted_at.isoformat(),
                "case_id": entry.case_id,
                "transaction_id": str(tx.transaction_id),
                "kind": tx.kind,
                "description": tx.description,
                "amount": entry.amount,
            }
        )
    return statement


def to_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for line in statement.lines:
        writer.writerow([line[c] for c in COLUMNS])
    totals = statement.totals
    writer.writerow([])
    writer.writerow(["total debits", "", "", "", "", totals["debits"]])
    writer.writerow(["total credits", "", "", "", "", totals["credits"]])
    writer.writerow(["net receivable", "", "", "", "", totals["net_receivable"]])
    return out.getvalue()


def to_xlsx(statement: Statement) -> bytes:
    """Amounts in rupees with two decimals for people; the JSON and CSV keep exact paise."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Statement")
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    bold_money = book.add_format({"num_format": "#,##0.00", "bold": True})
    sheet.write(0, 0, f"Partner statement — {statement.partner_id}", bold)
    sheet.write(
        1, 0, f"Period {statement.period_start:%d %b %Y} to {statement.period_end:%d %b %Y} (UTC)"
    )
    header = ("Posted at (UTC)", "Case", "Transaction", "Kind", "Description", "Amount (₹)")
    for col, title in enumerate(header):
        sheet.write(3, col, title, bold)
    row = 4
    for line in statement.lines:
        sheet.write(row, 0, line["posted_at"])
        sheet.write(row, 1, line["case_id"])
        sheet.write(row, 2, line["transaction_id"])
        sheet.write(row, 3, line["kind"])
        sheet.write(row, 4, line["description"])
        sheet.write_number(row, 5, line["amount"] / 100, money)
        row += 1
    totals = statement.totals
    row += 1
    for label, key in (
        ("Total debits", "debits"),
        ("Total credits", "credits"),
        ("Net receivable", "net_receivable"),
    ):
        sheet.write(row, 4, label, bold)
        sheet.write_number(row, 5, totals[key] / 100, bold_money)
        row += 1
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 2, 38)
    sheet.set_column(4, 4, 50)
    sheet.set_column(5, 5, 14)
    book.close()
    return out.getvalue()


async def require_known_partner(
    session: AsyncSession, partner_id: str, *, keyed: frozenset[str]
) -> None:
    """The desk's statements name a partner it knows: one holding a key (`keyed`, from the
    keyring), or one a case, a posting or a notice endpoint names. A partner's own key is
    bound to one."""
    if partner_id not in keyed and not await repository.partner_known(session, partner_id):
        raise PartnerNotFound(partner_id)
