"""The weekly management pack: one Excel workbook with native charts, for people who read the
desk's week in a spreadsheet rather than in an API.

Sheets: Summary (the week against the week before), Daily, By partner, By category,
By claim type, Recurring problems, and 12 weeks of trend. Money is written in rupees (paise / 100)
with a rupee number format, because that is how the figures are read in a meeting.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

MONEY = frozenset({"payout", "partner_recovery", "buyer_recovery", "marketplace_cost"})
RATES = frozenset({"auto_decision_rate", "approval_rate", "sla_adherence", "recovery_rate"})
HEADLINE = (
    ("escalations", "Escalations"),
    ("cases_opened", "Cases opened"),
    ("decided", "Cases decided"),
    ("auto_decision_rate", "Auto-decision rate"),
    ("approval_rate", "Approval rate"),
    ("turnaround_h_p50", "Turnaround, median (h)"),
    ("turnaround_h_p90", "Turnaround, 90th pct (h)"),
    ("sla_adherence", "Review SLA adherence"),
    ("payout", "Paid to sellers (₹)"),
    ("partner_recovery", "Recovered from partners (₹)"),
    ("buyer_recovery", "Recoverable from buyers (₹)"),
    ("recovery_rate", "Recovery rate"),
    ("marketplace_cost", "Marketplace cost (₹)"),
    ("repeat_sellers", "Sellers escalating more than once"),
    ("fraud_hits", "Cases with a HIGH fraud band"),
)
TABLE_COLUMNS = tuple(key for key, _ in HEADLINE)
# Charts sit to the right of a table, one empty column after its last (the table has the key
# column and one per headline figure), the second below the first: never over a figure.
CHART_COLUMN = len(TABLE_COLUMNS) + 2
TOP, LOWER = 1, 18


@dataclass(frozen=True, slots=True)
class Pack:
    week_start: date
    this_week: dict[str, Any]
    last_week: dict[str, Any]
    daily: list[dict[str, Any]]
    by_partner: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_claim_type: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    weekly_trend: list[dict[str, Any]]


def render(pack: Pack) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    fmt = _Formats(book)
    _summary(book, fmt, pack)
    daily = _table(book, fmt, "Daily", pack.daily, "bucket", "Day")
    _column_chart(book, daily, "Escalations and decisions per day", ["escalations", "decided"], TOP)
    _column_chart(
        book, daily, "Paid and recovered per day (₹)", ["payout", "partner_recovery"], LOWER
    )
    for title, rows, key in (
        ("By partner", pack.by_partner, "partner"),
        ("By category", pack.by_category, "category"),
        ("By claim type", pack.by_claim_type, "claim_type"),
    ):
        sheet = _table(book, fmt, title, rows, key, title.removeprefix("By ").capitalize())
        _column_chart(book, sheet, f"Escalations {title.lower()}", ["escalations"], TOP)
        _column_chart(
            book,
            sheet,
            f"Paid and recovered {title.lower()} (₹)",
            ["payout", "partner_recovery", "buyer_recovery"],
            LOWER,
        )
    _problems(book, fmt, pack.problems)
    trend = _table(book, fmt, "12-week trend", pack.weekly_trend, "bucket", "Week of")
    _line_chart(book, trend, "Escalations per week", ["escalations", "decided"], TOP, False)
    _line_chart(
        book,
        trend,
        "Approval and auto-decision rates",
        ["approval_rate", "auto_decision_rate"],
        LOWER,
        True,
    )
    book.close()
    return out.getvalue()


class _Formats:
    def __init__(self, book: Any) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1})
        self.money = book.add_format({"num_format": "₹#,##0.00"})
        self.rate = book.add_format({"num_format": "0.0%"})
        self.number = book.add_format({"num_format": "#,##0.##"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})


@dataclass(frozen=True, slots=True)
class _Sheet:
    name: str
    columns: Sequence[str]
    rows: int


def _cell(value: Any, key: str) -> Any:
    if value is None:
        return None
    return value / 100 if key in MONEY else value


def _format(fmt: _Formats, key: str) -> Any:
    if key in MONEY:
        return fmt.money
    return fmt.rate if key in RATES else fmt.number


def _summary(book: Any, fmt: _Formats, pack: Pack) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write(0, 0, f"Seller return disputes — week of {pack.week_start.isoformat()}", fmt.title)
    for col, text in enumerate(("Figure", "This week", "Week before", "Change")):
        sheet.write(2, col, text, fmt.header)
    for i, (key, label) in enumerate(HEADLINE, start=3):
        now, before = pack.this_week.get(key), pack.last_week.get(key)
        sheet.write(i, 0, label)
        sheet.write(i, 1, _cell(now, key), _format(fmt, key))
        sheet.write(i, 2, _cell(before, key), _format(fmt, key))
        if isinstance(now, int | float) and isinstance(before, int | float):
            sheet.write(i, 3, _cell(now - before, key), _format(fmt, key))
    sheet.write(
        len(HEADLINE) + 4,
        0,
        f"Recurring problems flagged this week: {len(pack.problems)} (see 'Recurring problems').",
    )
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 3, 16)
    _print_setup(sheet, header_rows=False)


def _table(
    book: Any, fmt: _Formats, name: str, rows: list[dict[str, Any]], key: str, label: str
) -> _Sheet:
    sheet = book.add_worksheet(name)
    columns = (key, *TABLE_COLUMNS)
    headers = (label, *(text for _, text in HEADLINE))
    for col, text in enumerate(headers):
        sheet.write(0, col, text, fmt.header)
    for r, row in enumerate(rows, start=1):
        sheet.write(r, 0, str(row.get(key, "")))
        for c, column in enumerate(TABLE_COLUMNS, start=1):
            sheet.write(r, c, _cell(row.get(column), column), _format(fmt, column))
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, len(columns) - 1, 14)
    sheet.freeze_panes(1, 1)
    _print_setup(sheet, header_rows=True)
    return _Sheet(name, columns, len(rows))


def _print_setup(sheet: Any, *, header_rows: bool) -> None:
    """A4 landscape, one page wide, the header row repeated on every page, page numbers."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_footer("&L&A&RPage &P of &N")
    if header_rows:
        sheet.repeat_rows(0)


def _series(chart: Any, sheet: _Sheet, column: str) -> None:
    col = sheet.columns.index(column)
    last = max(sheet.rows, 1)
    chart.add_series(
        {
            "name": [sheet.name, 0, col],
            "categories": [sheet.name, 1, 0, last, 0],
            "values": [sheet.name, 1, col, last, col],
        }
    )


def _column_chart(book: Any, sheet: _Sheet, title: str, columns: list[str], row: int) -> None:
    chart = book.add_chart({"type": "column"})
    for column in columns:
        _series(chart, sheet, column)
    chart.set_title({"name": title})
    chart.set_size({"width": 620, "height": 300})
    book.get_worksheet_by_name(sheet.name).insert_chart(row, CHART_COLUMN, chart)


def _line_chart(
    book: Any, sheet: _Sheet, title: str, columns: list[str], row: int, rates: bool
) -> None:
    chart = book.add_chart({"type": "line"})
    for column in columns:
        _series(chart, sheet, column)
    chart.set_title({"name": title})
    if rates:
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_size({"width": 620, "height": 300})
    book.get_worksheet_by_name(sheet.name).insert_chart(row, CHART_COLUMN, chart)


def _problems(book: Any, fmt: _Formats, problems: list[dict[str, Any]]) -> None:
    sheet = book.add_worksheet("Recurring problems")
    headers = (
        ("dimension", "Where"),
        ("value", "Which"),
        ("cases", "Cases this week"),
        ("expected", "Expected"),
        ("ratio", "× baseline"),
        ("p_value", "p-value"),
        ("q_value", "q-value (BH)"),
        ("top_rule", "Main rule"),
        ("payout", "Paid (₹)"),
        ("recommendation", "Recommended change"),
    )
    for col, (_, text) in enumerate(headers):
        sheet.write(0, col, text, fmt.header)
    for r, problem in enumerate(problems, start=1):
        for c, (key, _) in enumerate(headers):
            value = problem.get(key)
            if key == "payout":
                sheet.write(r, c, _cell(value, key), fmt.money)
            elif key == "recommendation":
                sheet.write(r, c, value, fmt.wrap)
            else:
                sheet.write(r, c, value)
    if not problems:
        sheet.write(1, 0, "No slice of cases rose above its baseline this week.")
    sheet.set_column(0, len(headers) - 2, 13)
    sheet.set_column(len(headers) - 1, len(headers) - 1, 70)
    _print_setup(sheet, header_rows=True)
