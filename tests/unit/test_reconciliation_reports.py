"""KPIs and recurring-problem detection over hand-built case rows."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.reconciliation.reports import workbook
from services.reconciliation.reports.kpis import (
    CaseRow,
    EscalationRow,
    bucket_of,
    kpis,
    percentile,
    totals,
)
from services.reconciliation.reports.trends import RECOMMENDATIONS, recurring_problems
from tests.support import xlsx

MON = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # a Monday

BASE = CaseRow(
    case_id="C",
    seller_id="S1",
    partner_id="swiftship",
    category="electronics",
    claim_type="DAMAGED",
    hub_id="HUB-1",
    opened_at=MON + timedelta(hours=2),
    decided_at=MON + timedelta(hours=12),
    decided_by="system",
    rule_id="L6",
    outcome="GRANTED",
    reason_code=None,
    payout=100_000,
    partner_debit=100_000,
    buyer_receivable=0,
    marketplace_cost=0,
    sla_breached=False,
    fraud_band="LOW",
)


def row(i: int, **over: object) -> CaseRow:
    return replace(BASE, case_id=f"C{i}", **over)  # type: ignore[arg-type]


def esc(seller: str, at: datetime, partner: str = "swiftship") -> EscalationRow:
    return EscalationRow(seller, partner, "electronics", "DAMAGED", at)


def test_figures_of_a_day() -> None:
    cases = [
        row(1),
        # A person decided after 30 h, a partial payout partly recovered from the buyer.
        row(
            2,
            decided_by="agent.asha",
            decided_at=MON + timedelta(hours=32),
            outcome="PARTIAL",
            payout=50_000,
            partner_debit=0,
            buyer_receivable=50_000,
            sla_breached=True,
        ),
        # Rejected by the SOP (no payout, a reason code).
        row(
            3, outcome=None, reason_code="EVIDENCE_MISSING", rule_id="E4", payout=0, partner_debit=0
        ),
        # Still open.
        row(4, decided_at=None, decided_by=None, rule_id=None, outcome=None, fraud_band="HIGH"),
    ]
    escalations = [
        esc("S1", MON + timedelta(hours=1)),
        esc("S1", MON + timedelta(hours=3)),
        esc("S2", MON + timedelta(hours=4)),
    ]
    days = kpis(cases, escalations, start=MON, end=MON + timedelta(days=7), period="day")
    # Every day of the week has its row; the quiet ones are zeros, not gaps.
    assert [d["bucket"] for d in days] == [
        (MON + timedelta(days=i)).date().isoformat() for i in range(7)
    ]
    assert all(d["escalations"] == 0 and d["decided"] == 0 for d in days[2:])
    monday, tuesday = days[0], days[1]
    assert monday["bucket"] == "2026-11-16" and tuesday["bucket"] == "2026-11-17"
    assert monday["escalations"] == 3
    assert monday["repeat_sellers"] == 1 and monday["repeat_escalations"] == 1
    assert monday["cases_opened"] == 4 and monday["fraud_hits"] == 1
    assert monday["decided"] == 2 and monday["auto_decision_rate"] == 1.0
    assert monday["approved"] == 1 and monday["rejected"] == 1
    assert tuesday["decided"] == 1 and tuesday["sla_adherence"] == 0.0
    assert tuesday["recovery_rate"] == 1.0 and tuesday["buyer_recovery"] == 50_000

    week = totals(cases, escalations, start=MON, end=MON + timedelta(days=7))
    assert week["decided"] == 3 and week["approval_rate"] == round(2 / 3, 4)
    assert week["payout"] == 150_000 and week["partner_recovery"] == 100_000
    assert week["marketplace_cost"] == 0 and week["recovery_rate"] == 1.0
    assert week["turnaround_h_p50"] == 10.0 and week["sla_breached"] == 1


def test_activity_outside_the_period_is_left_out() -> None:
    early = row(1, opened_at=MON - timedelta(days=1), decided_at=MON + timedelta(hours=1))
    figures = totals([early], [], start=MON, end=MON + timedelta(days=1))
    assert figures["cases_opened"] == 0 and figures["decided"] == 1
    assert totals([], [], start=MON, end=MON + timedelta(days=1))["approval_rate"] is None


def test_weeks_start_on_monday_and_dimensions_split() -> None:
    assert bucket_of(MON + timedelta(days=6, hours=23), "week").isoformat() == "2026-11-16"
    cases = [row(1), row(2, partner_id="desipost"), row(3, partner_id=None)]
    rows = kpis(cases, [], start=MON, end=MON + timedelta(days=7), period="week", by="partner")
    assert [(r["partner"], r["decided"]) for r in rows] == [
        ("desipost", 1),
        ("swiftship", 1),
        ("unknown", 1),
    ]


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7


def history(hub: str, per_week: int, weeks: int, *, end: datetime, rule: str) -> list[CaseRow]:
    out = []
    for w in range(weeks):
        for i in range(per_week):
            at = end - timedelta(weeks=w + 1) + timedelta(hours=1 + i * 3)
            out.append(
                row(
                    len(out),
                    hub_id=hub,
                    opened_at=at,
                    decided_at=at,
                    rule_id=rule,
                    partner_id=f"p-{hub}",
                    category=f"cat-{hub}",
                    claim_type="DAMAGED",
                )
            )
    return out


def test_a_hub_spiking_against_its_baseline_is_flagged_with_its_remedy() -> None:
    as_of = MON + timedelta(days=35)
    steady = history("HUB-STEADY", 10, 5, end=as_of, rule="L11")
    # 3 a week for four weeks, then 20 in the last week, mostly weight drops.
    spiking = history("HUB-BAD", 3, 5, end=as_of, rule="L6")
    last_week = as_of - timedelta(days=7)
    spiking += [
        row(
            1000 + i,
            hub_id="HUB-BAD",
            partner_id="p-HUB-BAD",
            category="cat-HUB-BAD",
            opened_at=last_week + timedelta(hours=2 + i),
            rule_id="L6",
        )
        for i in range(17)
    ]
    found = recurring_problems(steady + spiking, as_of=as_of)
    flagged = {(p.dimension, p.value) for p in found}
    assert ("hub", "HUB-BAD") in flagged
    assert ("hub", "HUB-STEADY") not in flagged
    hub = next(p for p in found if p.value == "HUB-BAD")
    assert hub.cases == 20 and hub.top_rule == "L6" and hub.p_value < 0.01
    assert hub.recommendation == RECOMMENDATIONS["L6"]
    # Normalised by volume: its 12 baseline cases scaled by this window's volume over the
    # baseline's (10 + 20 cases now against 40 + 12 then).
    assert hub.expected == pytest.approx(12 * 30 / 52)
    assert hub.q_value <= 0.01 and hub.baseline_cases == 12


def test_volume_growing_everywhere_flags_no_slice() -> None:
    """Every slice doubles together: the desk got busier, no slice has a problem."""
    as_of = MON + timedelta(days=35)
    cases = history("HUB-A", 5, 5, end=as_of, rule="L11") + history(
        "HUB-B", 5, 5, end=as_of, rule="L9"
    )
    last_week = as_of - timedelta(days=7)
    for hub, rule in (("HUB-A", "L11"), ("HUB-B", "L9")):
        cases += [
            row(
                2000 + len(cases) + i,
                hub_id=hub,
                partner_id=f"p-{hub}",
                category=f"cat-{hub}",
                opened_at=last_week + timedelta(hours=1 + i),
                rule_id=rule,
            )
            for i in range(5)
        ]
    assert recurring_problems(cases, as_of=as_of) == []


def test_without_history_nothing_is_flagged() -> None:
    """A fresh desk: every slice is new, so every count would look like a spike."""
    as_of = MON + timedelta(days=7)
    burst = [
        row(i, hub_id="HUB-NEW", opened_at=as_of - timedelta(hours=2 + i), rule_id="L6")
        for i in range(30)
    ]
    assert recurring_problems(burst, as_of=as_of) == []


def test_benjamini_hochberg_matches_the_step_up_rule() -> None:
    from services.reconciliation.reports.trends import benjamini_hochberg

    # Ranked 0.01, 0.03, 0.04, 0.2 of m = 4: p * m / rank is 0.04, 0.06, 0.0533, 0.2, then
    # each q is the smallest of those from its rank upwards.
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_one_bad_day_of_a_small_slice_is_not_a_trend() -> None:
    as_of = MON + timedelta(days=35)
    cases = history("HUB-X", 2, 5, end=as_of, rule="L9")
    assert recurring_problems(cases, as_of=as_of) == []


def test_management_pack_is_a_workbook_with_native_charts() -> None:
    figures = totals([row(1)], [esc("S1", MON)], start=MON, end=MON + timedelta(days=7))
    rows = kpis([row(1)], [], start=MON, end=MON + timedelta(days=7), period="day")
    pack = workbook.Pack(
        week_start=MON.date(),
        this_week=figures,
        last_week=figures,
        daily=rows,
        by_partner=kpis(
            [row(1)], [], start=MON, end=MON + timedelta(days=7), period="week", by="partner"
        ),
        by_category=[],
        by_claim_type=[],
        problems=[],
        weekly_trend=rows,
    )
    body = workbook.render(pack)
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "xl/workbook.xml" in names
    charts = [n for n in names if n.startswith("xl/charts/chart")]
    assert len(charts) == 10
    sheets = zipfile.ZipFile(io.BytesIO(body)).read("xl/workbook.xml").decode()
    for title in ("Summary", "Daily", "By partner", "Recurring problems", "12-week trend"):
        assert f'name="{title}"' in sheets

    # Charts sit beside the tables: no anchor covers a cell holding a figure.
    laid_out = xlsx.sheets(body)
    assert sum(len(anchors) for _, anchors, _ in laid_out.values()) == 10
    assert xlsx.charts_over_cells(body) == []
    # Printable: A4 landscape, one page wide, the header row on every page.
    for name in ("Summary", "Daily", "By partner", "Recurring problems", "12-week trend"):
        xml = laid_out[name][2]
        assert 'orientation="landscape"' in xml and 'paperSize="9"' in xml, name
        assert 'fitToWidth="1"' in xml or "fitToPage" in xml, name
    assert "_xlnm.Print_Titles" in sheets


def test_the_old_layout_would_have_covered_money_columns() -> None:
    """The check is a real one: a chart at J2 over a table 16 columns wide is caught."""
    import xlsxwriter  # type: ignore[import-untyped]

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Daily")
    for col in range(16):
        sheet.write(1, col, col)
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": ["Daily", 1, 0, 1, 15]})
    sheet.insert_chart("J2", chart)
    book.close()
    assert xlsx.charts_over_cells(out.getvalue())
