"""Partner statements: what a partner owes for a period, as JSON, CSV or an Excel workbook."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
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
    totals, start, end = statement.totals, statement.period_start, statement.period_end
    return statement_workbook(
        title=f"Partner statement — {statement.partner_id}",
        subtitle=f"Period {start:%d %b %Y} to {end:%d %b %Y} (UTC)",
        columns=(
            ("Posted at (UTC)", "posted_at"),
            ("Case", "case_id"),
            ("Transaction", "transaction_id"),
            ("Kind", "kind"),
            ("Description", "description"),
        ),
        lines=statement.lines,
        totals=(
            ("Total debits", totals["debits"]),
            ("Total credits", totals["credits"]),
            ("Net receivable", totals["net_receivable"]),
        ),
        widths=((0, 0, 26), (1, 2, 38), (4, 4, 50), (5, 5, 14)),
    )


def statement_workbook(
    *,
    title: str,
    columns: Sequence[tuple[str, str]],
    lines: Sequence[Mapping[str, Any]],
    totals: Sequence[tuple[str, int]],
    widths: Sequence[tuple[int, int, int]],
    subtitle: str | None = None,
    opening: int | None = None,
    counts: Sequence[tuple[str, int]] = (),
    landscape: bool = False,
) -> bytes:
    """A partner statement as one sheet for people: the title (and subtitle), the opening
    balance if any, a row per line (`columns` as (heading, key), then its amount), and the
    totals and counts under the amounts. Amounts in rupees with two decimals for people; the
    JSON and CSV keep exact paise. `widths`: (first column, last column, width)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Statement")
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    bold_money = book.add_format({"num_format": "#,##0.00", "bold": True})
    amount_col = len(columns)
    sheet.write(0, 0, title, bold)
    if subtitle is not None:
        sheet.write(1, 0, subtitle)
    header_row = 3
    if opening is not None:
        sheet.write(2, 0, "Opening balance (₹)", bold)
        sheet.write_number(2, amount_col, opening / 100, bold_money)
        header_row = 4
    for col, heading in enumerate([heading for heading, _ in columns] + ["Amount (₹)"]):
        sheet.write(header_row, col, heading, bold)
    row = header_row + 1
    for line in lines:
        for col, (_, key) in enumerate(columns):
            sheet.write(row, col, line[key])
        sheet.write_number(row, amount_col, line["amount"] / 100, money)
        row += 1
    row += 1
    for label, amount in totals:
        sheet.write(row, amount_col - 1, label, bold)
        sheet.write_number(row, amount_col, amount / 100, bold_money)
        row += 1
    for label, count in counts:
        sheet.write(row, amount_col - 1, label, bold)
        sheet.write_number(row, amount_col, count)
        row += 1
    for first, last, width in widths:
        sheet.set_column(first, last, width)
    if landscape:
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
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
