"""Measurement prototype of lean4's cut (1), not product code: on a consumer batch, the handlers
work on a plain case object (no SQLAlchemy instrumentation) copied from each locked ORM case.
With LEAN5_PLAIN=1 the batch's write copies every column back onto the ORM case before
`write_changes`, which then writes what changed as before; with LEAN5_PLAIN=2 the write sends
the plain cases' changed columns itself (one array UPDATE per set of changed columns, in
`case_id` order, as `write_changes` does) and leaves the ORM cases untouched. Loaded by
micro.py; patches `batch.prepare`, `BatchView._changed_rows` and `BatchView.write` only."""
from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from services.reconciliation.facts import batch
from services.reconciliation.models import Case
from shared.db import ArrayUpdate, table_of

COLUMNS = tuple(attr.key for attr in Case.__mapper__.column_attrs)


class PlainCase:
    """The case's columns as plain attributes (a class with a `__dict__`: native get and set)."""

    def __init__(self, orm: Case) -> None:
        d = orm.__dict__
        for name in COLUMNS:
            setattr(self, name, d[name])


_prepare = batch.prepare


async def prepare(session: Any, facts: Any, return_ids: Any) -> batch.BatchView:
    view = await _prepare(session, facts, return_ids)
    pairs = []
    for rid, case in view.cases.items():
        if case is not None:
            plain = PlainCase(case)
            view.cases[rid] = plain  # type: ignore[assignment]
            pairs.append((plain, case, dict(case.__dict__)))
    view.__dict__["_plain_pairs"] = pairs
    return view


DIRECT = os.environ.get("LEAN5_PLAIN") == "2"
_UPDATES: dict[tuple[str, ...], ArrayUpdate] = {}
_write = batch.BatchView.write


async def write(self: batch.BatchView, session: Any) -> None:
    if DIRECT:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for plain, _, loaded in self.__dict__.get("_plain_pairs", ()):
            d = plain.__dict__
            changed = {n: d[n] for n in COLUMNS if d[n] is not loaded[n] and d[n] != loaded[n]}
            if changed:
                groups[tuple(sorted(changed))].append({"case_id": d["case_id"], **changed})
        for names, rows in groups.items():
            update = _UPDATES.get(names)
            if update is None:
                update = _UPDATES[names] = ArrayUpdate(table_of(Case), "case_id", names)
            rows.sort(key=lambda row: row["case_id"])
            await update.execute(session, rows)
    await _write(self, session)


def _changed_rows(self: batch.BatchView) -> Any:
    for plain, orm, _ in () if DIRECT else self.__dict__.get("_plain_pairs", ()):
        d = plain.__dict__
        for name in COLUMNS:
            value = d[name]
            if orm.__dict__.get(name) is not value:
                setattr(orm, name, value)
    for case in self.cases.values():
        if case is not None and not isinstance(case, PlainCase):
            yield case
    if not DIRECT:
        for _, orm, _ in self.__dict__.get("_plain_pairs", ()):
            yield orm
    for escalations in self.escalations.values():
        yield from escalations


batch.prepare = prepare
batch.BatchView._changed_rows = _changed_rows  # type: ignore[method-assign]
batch.BatchView.write = write  # type: ignore[method-assign]
