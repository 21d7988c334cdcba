"""Recurring problems and the weekly pack on the real database: a fresh desk flags nothing, a
planted spike over five weeks of history is found (and the rest is not), and the pack has a
row for every day and week, zeros included, with charts beside its tables."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from services.reconciliation.models import Case
from tests.conftest import Harness
from tests.support import xlsx
from tests.support.reconciliation import Engine, engine

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
FINANCE = "DISPUTEDESK_KEY_FINANCE"


@pytest.fixture(scope="module")
async def trends(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "trends") as eng:
        yield eng


async def plant(eng: Engine, partner: str, times: list[datetime]) -> None:
    """Cases opened at the given times, written as the engine writes them (no decision yet)."""
    async with eng.sessionmaker() as session, session.begin():
        for at in times:
            key = uuid.uuid4().hex[:12].upper()
            session.add(
                Case(
                    case_id=f"CASE-{key}",
                    return_id=f"RET-TREND-{key}",
                    seller_id="S-TREND",
                    partner_id=partner,
                    claim_type="DAMAGED",
                    origin="SELLER",
                    state="UNDER_REVIEW",
                    version=1,
                    opened_at=at,
                    updated_at=at,
                    sla_used_s=0,
                    sla_breached=False,
                    facts_wait_over=False,
                    fraud_wait_over=False,
                    payout=0,
                )
            )


def weekly(as_of: datetime, per_week: int, weeks: int) -> list[datetime]:
    return [
        as_of - timedelta(weeks=w + 1) + timedelta(hours=2 + i * 5)
        for w in range(weeks)
        for i in range(per_week)
    ]


async def problems(eng: Engine, harness: Harness, as_of: datetime) -> list[dict]:
    r = await eng.client.get(
        "/v1/reports/recurring-problems",
        params={"as_of": as_of.isoformat()},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    return list(r.json()["problems"])


async def test_fresh_desk_flags_nothing_then_a_planted_spike_is_found(
    trends: Engine, harness: Harness
) -> None:
    as_of = trends.clock.now()
    # Day one: a burst of cases with no history behind them is not a trend.
    await plant(trends, "p-burst", [as_of - timedelta(hours=h) for h in range(1, 26)])
    assert await problems(trends, harness, as_of) == []

    # Five weeks later: three steady partners, and one whose cases jump in the last week.
    later = as_of + timedelta(weeks=5)
    for partner in ("p-steady-1", "p-steady-2", "p-steady-3"):
        await plant(trends, partner, weekly(later, 6, 5))
    await plant(trends, "p-spike", weekly(later, 3, 5)[3:])  # 3 a week for the 4 weeks before
    await plant(
        trends, "p-spike", [later - timedelta(days=6) + timedelta(hours=h) for h in range(24)]
    )
    found = await problems(trends, harness, later)
    flagged = {(p["dimension"], p["value"]) for p in found}
    assert ("partner", "p-spike") in flagged
    assert not {v for d, v in flagged if d == "partner"} - {"p-spike"}
    spike = next(p for p in found if p["value"] == "p-spike")
    assert spike["cases"] == 24 and spike["baseline_cases"] == 12 and spike["q_value"] <= 0.01


async def test_pack_has_every_day_and_week_and_charts_beside_tables(
    trends: Engine, harness: Harness
) -> None:
    r = await trends.client.get("/v1/reports/management-pack", headers=harness.key(FINANCE))
    assert r.status_code == 200, r.text  # week_of defaults to this week, as the CLI does
    laid_out = xlsx.sheets(r.content)
    assert xlsx.charts_over_cells(r.content) == []
    daily_rows = {row for _, row in laid_out["Daily"][0]} - {0}
    weekly_rows = {row for _, row in laid_out["12-week trend"][0]} - {0}
    assert len(daily_rows) == 7 and len(weekly_rows) == 12
