"""The text `ArrayInsert` writes (shared/db.py): one array per column, strings cast as text
(a cast to varchar(n) would cut a long value short), JSON as text cast to jsonb, the rows'
order kept; and a column SQLAlchemy would default in Python cannot be left out."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import ArrayInsert, ArrayUpdate, JsonText, _array_params

metadata = MetaData()
ROWS = Table(
    "rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(10)),
    Column("count", Integer),
    Column("doc", JSONB),
    Column("origin", String(20), default="here"),
)


def test_each_column_is_one_array_in_the_order_given() -> None:
    sql = str(ArrayInsert(ROWS, ("name", "count", "doc", "origin")).statement)
    assert sql == (
        "INSERT INTO rows (name, count, doc, origin) SELECT r.name, r.count, r.doc::jsonb, "
        "r.origin FROM unnest(CAST(:name AS text[]), CAST(:count AS INTEGER[]), "
        "CAST(:doc AS text[]), CAST(:origin AS text[])) WITH ORDINALITY "
        "AS r(name, count, doc, origin, n) ORDER BY r.n"
    )


def test_a_column_with_a_python_default_must_be_given() -> None:
    with pytest.raises(ValueError, match="origin"):
        ArrayInsert(ROWS, ("name", "count", "doc"))


def test_conflicting_rows_can_be_skipped() -> None:
    sql = str(ArrayInsert(ROWS, ("name", "origin"), skip_conflicts=True).statement)
    assert sql.endswith("ORDER BY r.n ON CONFLICT DO NOTHING")


def test_an_encoded_json_value_goes_as_it_is() -> None:
    """A `JsonText` is the column's text already; any other value is encoded (a str as a JSON
    string)."""
    params = _array_params(("doc",), {"doc"}, [{"doc": JsonText('{"a":1}')}, {"doc": '{"a":1}'}])
    assert params["doc"] == ['{"a":1}', '"{\\"a\\":1}"']


def test_an_update_by_two_keys_only_where_a_condition_holds() -> None:
    update = ArrayUpdate(ROWS, ("name", "origin"), ("count",), only_where="rows.count IS NULL")
    assert str(update.statement) == (
        "UPDATE rows SET count = r.count FROM unnest(CAST(:name AS text[]), "
        "CAST(:origin AS text[]), CAST(:count AS INTEGER[])) AS r(name, origin, count) "
        "WHERE rows.name = r.name AND rows.origin = r.origin AND rows.count IS NULL"
    )
