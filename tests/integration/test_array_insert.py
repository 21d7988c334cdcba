"""`ArrayInsert` (shared/db.py) on the real PostgreSQL: rows keep the order given (outbox ids
are the relay's publishing order), one statement text serves every row count (so it is
prepared once), JSON goes in as the engine's serialiser writes it (`None` as JSON null), and a
value too long for its column is refused as a plain insert refuses it, not cut short. With
`new_only_returning` it skips the keys stored already and returns the new ones, typed as the
ORM types them; `among` reads the rows `IN` reads, with one text for every list length."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from services.reconciliation.models import Outbox, ShipmentEventRecord
from shared.db import ArrayInsert, among, make_engine, make_sessionmaker, table_of
from tests.conftest import Harness
from tests.support.reconciliation import _migrate

COLUMNS = ("ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "topic", "key", "payload")
COLUMNS += ("traceparent",)
AT = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
INSERT = ArrayInsert(table_of(Outbox), COLUMNS)


def _row(n: int, payload: Any, *, key: str = "K") -> dict[str, Any]:
    return {
        "ce_id": uuid.uuid4(),
        "ce_type": "test.row",
        "ce_source": "test",
        "ce_time": AT + timedelta(seconds=n),
        "ce_subject": None,
        "topic": "test.rows",
        "key": key,
        "payload": payload,
        "traceparent": None,
    }


@pytest.fixture
async def database(harness: Harness) -> AsyncIterator[tuple[Any, list[str]]]:
    engine = make_engine(await _migrate(harness, "test_array_insert"), pool_size=1)
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        yield make_sessionmaker(engine), statements
    finally:
        await engine.dispose()


async def test_rows_keep_their_order_and_one_text_serves_every_count(
    database: tuple[Any, list[str]],
) -> None:
    sessionmaker, statements = database
    # Rows out of ce_time order: the ids must follow the list, not any column.
    batches = [[_row(-n, {"n": n}) for n in range(size)] for size in (3, 250, 1)]
    async with sessionmaker() as session, session.begin():
        for rows in batches:
            await INSERT.execute(session, rows)
        await INSERT.execute(session, [])  # nothing to write: no statement
        stored = (
            await session.execute(text("SELECT ce_id, payload FROM outbox ORDER BY id"))
        ).all()

    expected = [(r["ce_id"], r["payload"]) for rows in batches for r in rows]
    assert [(row.ce_id, row.payload) for row in stored] == expected
    inserts = [s for s in statements if s.startswith("INSERT INTO outbox")]
    assert len(inserts) == len(batches)
    assert len(set(inserts)) == 1  # the text does not grow with the batch


async def test_json_is_stored_as_the_engine_writes_it(database: tuple[Any, list[str]]) -> None:
    sessionmaker, _ = database
    documents = [None, {"nested": {"amount": 199_900, "tags": ["a", "ü"]}}, [1, "two"], "text"]
    async with sessionmaker() as session, session.begin():
        await INSERT.execute(session, [_row(n, d) for n, d in enumerate(documents)])
        # A Python None is JSON null, as SQLAlchemy's JSON parameter writes it, not SQL NULL.
        # (Reconciliation's outbox payload is `json`: kept as the text sent.)
        kinds = (
            await session.execute(
                text(
                    "SELECT payload IS NULL, json_typeof(payload), payload FROM outbox ORDER BY id"
                )
            )
        ).all()
    assert [tuple(k) for k in kinds] == [
        (False, "null", None),
        (False, "object", documents[1]),
        (False, "array", documents[2]),
        (False, "string", "text"),
    ]


async def test_a_value_too_long_for_its_column_is_refused(database: tuple[Any, list[str]]) -> None:
    sessionmaker, _ = database
    with pytest.raises(DBAPIError, match="too long"):
        async with sessionmaker() as session, session.begin():
            await INSERT.execute(session, [_row(0, {}), _row(1, {}, key="K" * 201)])
    async with sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM outbox"))).scalar() == 0


SCAN_COLUMNS = ("event_id", "ce_id", "return_id", "partner_id", "event_type", "occurred_at")
SCANS = ArrayInsert(table_of(ShipmentEventRecord), SCAN_COLUMNS, new_only_returning="event_id")


def _scan(n: int) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "ce_id": uuid.uuid4(),
        "return_id": f"R-{n % 2}",
        "partner_id": "swiftship",
        "event_type": "picked_up",
        "occurred_at": AT + timedelta(minutes=n),
    }


async def test_new_only_insert_returns_the_keys_it_stored(
    database: tuple[Any, list[str]],
) -> None:
    sessionmaker, statements = database
    first = [_scan(n) for n in range(3)]
    again = [first[1], _scan(3)]  # one stored already, one new
    async with sessionmaker() as session, session.begin():
        created_first = await SCANS.insert_new(session, first)
        created_again = await SCANS.insert_new(session, again)
        assert await SCANS.insert_new(session, []) == set()
        stored = (await session.execute(text("SELECT count(*) FROM shipment_events"))).scalar()

    assert created_first == {r["event_id"] for r in first}
    assert created_again == {again[1]["event_id"]}
    assert all(isinstance(k, uuid.UUID) for k in created_first | created_again)
    assert stored == 4
    inserts = [s for s in statements if s.startswith("INSERT INTO shipment_events")]
    assert len(inserts) == 2 and len(set(inserts)) == 1


async def test_among_reads_what_in_reads_with_one_text(database: tuple[Any, list[str]]) -> None:
    sessionmaker, statements = database
    rows = [_scan(n) for n in range(5)]
    ids = ShipmentEventRecord.event_id
    async with sessionmaker() as session, session.begin():
        await SCANS.insert_new(session, rows)
        del statements[:]
        for wanted in ([rows[0]["event_id"]], [r["event_id"] for r in rows[1:4]], []):
            found = set((await session.scalars(select(ids).where(among(ids, wanted)))).all())
            assert found == set(wanted)
            assert found == set((await session.scalars(select(ids).where(ids.in_(wanted)))).all())
    amongs = [s for s in statements if "ANY" in s]
    assert len(amongs) == 3 and len(set(amongs)) == 1
