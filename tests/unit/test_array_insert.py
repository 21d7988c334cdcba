"""The text `ArrayInsert` writes (shared/db.py): one array per column, strings cast as text
(a cast to varchar(n) would cut a long value short), JSON as text cast to jsonb, the rows'
order kept; and a column SQLAlchemy would default in Python cannot be left out."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import ArrayInsert

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
