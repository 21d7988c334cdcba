"""`write_changes` (shared/db.py) on the real PostgreSQL leaves each row as the ORM's flush
leaves it: the same changes made to two copies of the same cases, one copy flushed, the other
written by `write_changes`, end as equal rows, JSON null and SQL NULL told apart. Rows changed
in the same columns go out as one UPDATE whatever their count, and the objects are left clean:
the session's next flush sends nothing for them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from services.reconciliation.models import Case
from shared.db import make_engine, make_sessionmaker, write_changes
from tests.conftest import Harness
from tests.support.reconciliation import _migrate

AT = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)


@pytest.fixture
async def database(harness: Harness) -> AsyncIterator[tuple[Any, list[str]]]:
    engine = make_engine(await _migrate(harness, "test_write_changes"), pool_size=1)
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        yield make_sessionmaker(engine), statements
    finally:
        await engine.dispose()


def _case(copy: str, n: int) -> Case:
    case = Case(
        case_id=f"{copy}-{n}",
        return_id=f"R-{copy}-{n}",
        seller_id="S-1",
        origin="CLAIM",
        state="UNDER_REVIEW",
        version=2,
        opened_at=AT,
        updated_at=AT,
    )
    # Case 1 starts with a proposal that is then withdrawn (set to None: JSON null); the others
    # with none (SQL NULL), which setting None again leaves alone.
    if n == 1:
        case.proposal = {"rule_id": "R-3"}
    return case


def _change(case: Case, n: int) -> None:
    """What a decision does to a case row, with variations by case."""
    case.version += 1
    case.state = "CLOSED"
    case.updated_at = AT + timedelta(minutes=n + 1)
    case.decision = {"rule_id": f"R-{n}", "payout": 100 * n, "facts": {"weights": [1000, 990]}}
    case.proposal = None
    case.payout += 100 * (n + 1)
    case.reason_code = None  # was None: no change
    if n % 2:
        case.sla_started_at = AT  # a column the other cases leave alone


async def _rows(session: Any, copy: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT *, proposal IS NULL AS proposal_sql_null, jsonb_typeof(proposal) AS "
            f"proposal_kind FROM cases WHERE case_id LIKE '{copy}-%' ORDER BY return_id"
        )
    )
    return [
        {k: v for k, v in r.items() if k not in ("case_id", "return_id")} for r in rows.mappings()
    ]


async def test_rows_end_as_the_flush_leaves_them(database: tuple[Any, list[str]]) -> None:
    sessionmaker, statements = database
    cases = 5
    async with sessionmaker() as session, session.begin():
        session.add_all(_case(copy, n) for copy in ("flushed", "written") for n in range(cases))
    async with sessionmaker() as session, session.begin():
        loaded = {
            c.case_id: c for c in (await session.scalars(select(Case).with_for_update())).all()
        }
        for n in range(cases):
            _change(loaded[f"flushed-{n}"], n)
            _change(loaded[f"written-{n}"], n)
        await write_changes(session, [loaded[f"written-{n}"] for n in range(cases)])
        updates = [s for s in statements if s.startswith("UPDATE cases")]
        # Three sets of changed columns: cases 0, 2 and 4; case 3 (its SLA start too); case 1
        # (its SLA start and its proposal withdrawn).
        assert len(updates) == 3
        assert all("unnest" in s for s in updates)
        await session.flush()
        flushed = [s for s in statements if s.startswith("UPDATE cases")][len(updates) :]
        assert flushed and all("unnest" not in s for s in flushed)
        del statements[:]
        await session.flush()
        assert not [s for s in statements if s.startswith("UPDATE")]  # both copies are clean
        written, by_flush = await _rows(session, "written"), await _rows(session, "flushed")

    assert written == by_flush
    assert [r["state"] for r in written] == ["CLOSED"] * cases
    assert [r["proposal_sql_null"] for r in written[:2]] == [True, False]
    assert written[1]["proposal_kind"] == "null"
    assert written[3]["decision"] == {
        "rule_id": "R-3",
        "payout": 300,
        "facts": {"weights": [1000, 990]},
    }


async def test_new_objects_and_unchanged_ones_are_left_to_the_flush(
    database: tuple[Any, list[str]],
) -> None:
    sessionmaker, statements = database
    async with sessionmaker() as session, session.begin():
        session.add(_case("kept", 0))
    async with sessionmaker() as session, session.begin():
        kept = await session.get(Case, "kept-0")
        assert kept is not None
        kept.state = kept.state  # set, but to the value it had
        new = _case("new", 1)
        session.add(new)
        del statements[:]
        await write_changes(session, [kept, new])
        assert statements == []
        await session.flush()
        assert (await session.get(Case, "new-1")) is new
