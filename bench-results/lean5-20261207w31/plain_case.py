"""Measurement prototype of lean4's cut (1), not product code: on a consumer batch, the handlers
work on a plain case object (no SQLAlchemy instrumentation) copied from each locked ORM case;
the batch's write copies every column back onto the ORM case before `write_changes`, which
then writes what changed as before. Imported before the run (micro_plain.py); patches
`batch.prepare` and `BatchView._changed_rows` only."""
from __future__ import annotations

from typing import Any

from services.reconciliation.facts import batch
from services.reconciliation.models import Case

COLUMNS = tuple(attr.key for attr in Case.__mapper__.column_attrs)


class PlainCase:
    """The case's columns as plain attributes (a class with a `__dict__`: native get and set)."""

    def __init__(self, orm: Case) -> None:
        d = orm.__dict__
        for name in COLUMNS:
            setattr(self, name, d[name])


_orm_of: dict[int, tuple[PlainCase, Case]] = {}
_prepare = batch.prepare


async def prepare(session: Any, facts: Any, return_ids: Any) -> batch.BatchView:
    view = await _prepare(session, facts, return_ids)
    pairs = []
    for rid, case in view.cases.items():
        if case is not None:
            plain = PlainCase(case)
            view.cases[rid] = plain  # type: ignore[assignment]
            pairs.append((plain, case))
    view.__dict__["_plain_pairs"] = pairs
    return view


def _changed_rows(self: batch.BatchView) -> Any:
    for plain, orm in self.__dict__.get("_plain_pairs", ()):
        d = plain.__dict__
        for name in COLUMNS:
            value = d[name]
            if orm.__dict__.get(name) is not value:
                setattr(orm, name, value)
    for case in self.cases.values():
        if case is not None and not isinstance(case, PlainCase):
            yield case
    for plain, orm in self.__dict__.get("_plain_pairs", ()):
        yield orm
    for escalations in self.escalations.values():
        yield from escalations


batch.prepare = prepare
batch.BatchView._changed_rows = _changed_rows  # type: ignore[method-assign]
