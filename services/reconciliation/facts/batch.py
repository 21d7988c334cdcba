"""What one consumer batch knows about its returns, read with a few set-wise queries.

Handling a batch event by event costs about eight round trips per event: store the fact, lock
the case, read the return, its scans, escalations, evidence and assessments, cancel a timer.
A `BatchView` does the same work per batch instead:

1. every fact of the batch is inserted up front, one statement per table;
2. the cases of the batch's returns are locked, and every stored fact of those returns is read:
   the escalations as ORM objects, the other four tables in one statement (`_read_facts`);
3. the per-event handlers then run in partition order exactly as they do alone, but the
   repositories answer from the view, and timer changes are queued and written together at the
   end, as are the rows the handlers queued and the changes they made to the locked cases and
   escalations (one array `UPDATE` per set of changed columns, `shared.db.write_changes`).

The view hides the facts inserted in step 1 until their own event's handler stores them, so an
event never sees a fact that arrives after it in the partition: each handler sees what it
would see if the events were handled one by one.
"""

from __future__ import annotations

from collections import Counter, defaultdict, namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import (
    AssessmentRecord,
    Case,
    EscalationRecord,
    EvidenceAddition,
    LedgerEntry,
    LedgerTransaction,
    Outbox,
    ReturnRecord,
    ShipmentEventRecord,
    TimelineEntry,
    Timer,
)
from shared.db import ArrayInsert, ArrayUpdate, among, table_of, write_changes
from shared.outbox import note_enqueued
from shared.unit_of_work import unit_of

# The fact tables a batch inserts up front, with the column that identifies a fact. Appeals and
# refunds are not among them: no handler reads them back, so they are stored as they come.
_FACT_KEYS: dict[type[Any], str] = {
    ReturnRecord: "return_id",
    ShipmentEventRecord: "event_id",
    EscalationRecord: "escalation_id",
    EvidenceAddition: "ce_id",
    AssessmentRecord: "assessment_id",
}


# The rows a batch's handlers queue, one statement per table whatever the batch's size. The
# columns are those the handlers' rows carry (`timeline.emit`/`note`, `outbox_row`,
# `ledger.add_transaction`); the rest take their defaults.
_INSERT_LEDGER_TRANSACTIONS = ArrayInsert(
    table_of(LedgerTransaction),
    ("transaction_id", "case_id", "kind", "reverses", "policy_version", "description", "posted_at"),
)
_INSERT_LEDGER_ENTRIES = ArrayInsert(
    table_of(LedgerEntry),
    (
        "transaction_id",
        "case_id",
        "account",
        "account_type",
        "counterparty_id",
        "amount",
        "posted_at",
    ),
)
_INSERT_TIMELINE = ArrayInsert(
    table_of(TimelineEntry),
    ("case_id", "case_version", "kind", "actor", "reason", "data", "occurred_at"),
)
_INSERT_OUTBOX = ArrayInsert(
    table_of(Outbox),
    (
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_time",
        "ce_subject",
        "topic",
        "key",
        "payload",
        "traceparent",
    ),
)


# A case's pending timer of a kind (`uq_timers_pending_kind`): cancelled if there is one, and
# scheduled unless there is one, as `timers/repository.py` does for a single case. One statement
# per round of changes, where the round's rows went as one execution each (`executemany`).
_PENDING_TIMER = "timers.fired_at IS NULL AND timers.cancelled_at IS NULL"
_CANCEL_TIMERS = ArrayUpdate(
    table_of(Timer), ("case_id", "kind"), ("cancelled_at",), only_where=_PENDING_TIMER
)
_SCHEDULE_TIMERS = ArrayInsert(table_of(Timer), ("case_id", "kind", "due_at"), skip_conflicts=True)


class StaleBatchView(RuntimeError):
    """A handler met a fact the batch did not prepare; the batch is re-run event by event."""


@dataclass(slots=True)
class _TimerOp:
    case_id: str
    kind: str
    cancel_at: datetime | None = None  # a cancellation when set, else a schedule
    due_at: datetime | None = None


@dataclass
class BatchView:
    return_ids: set[str]
    cases: dict[str, Case | None] = field(default_factory=dict)
    # Read-only facts are plain rows with the models' attribute names (`prepare`).
    returns: dict[str, Any] = field(default_factory=dict)
    scans: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    escalations: dict[str, list[EscalationRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    additions: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    assessments: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    # Facts this batch inserted whose event has not been handled yet: invisible until then.
    hidden: set[tuple[type[Any], Any]] = field(default_factory=set)
    # How many of each return's facts are hidden: most reads are of a return with none, and
    # skip the filter (a batch's assessments stay hidden until each is handled).
    hidden_per_return: Counter[str] = field(default_factory=Counter)
    # Facts the batch tried to insert up front, and whether the insert created them.
    prepared: dict[tuple[type[Any], Any], bool] = field(default_factory=dict)
    timer_ops: list[_TimerOp] = field(default_factory=list)
    # Rows the batch's handlers wrote, inserted together once they have all run.
    timeline: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    ledger_transactions: list[dict[str, Any]] = field(default_factory=list)
    ledger_entries: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, return_id: str | None) -> bool:
        return return_id is not None and return_id in self.return_ids

    def visible(self, model: type[Any], rows: Sequence[Any]) -> list[Any]:
        """Those of one return's `rows` whose fact is not hidden."""
        if not rows or not self.hidden_per_return[rows[0].return_id]:
            return list(rows)
        key = _FACT_KEYS[model]
        return [r for r in rows if (model, getattr(r, key)) not in self.hidden]

    def hide(self, model: type[Any], key: Any, return_id: str) -> None:
        self.hidden.add((model, key))
        self.hidden_per_return[return_id] += 1

    def claim_fact(self, model: type[Any], key: Any, return_id: str) -> bool | None:
        """The event's handler stores its fact: True if the batch created it (it becomes
        visible now), False if it was stored before, None if the batch did not prepare it."""
        outcome = self.prepared.pop((model, key), None)
        if outcome and (model, key) in self.hidden:
            self.hidden.discard((model, key))
            self.hidden_per_return[return_id] -= 1
        return outcome

    async def write(self, session: AsyncSession) -> None:
        """Insert the rows the handlers queued, in the order they queued them (outbox ids keep
        each case's events in order), parents before children."""
        # The changed rows of the batch's locked cases and escalations: one array UPDATE per set
        # of changed columns, where the flush sent one UPDATE per row.
        await write_changes(session, self._changed_rows())
        await session.flush()  # cases opened by the batch: timeline rows and timers refer to them
        if self.outbox:
            note_enqueued(session)  # the runner wakes the relay once the batch has committed
        for statement, rows in (
            (_INSERT_LEDGER_TRANSACTIONS, self.ledger_transactions),
            (_INSERT_LEDGER_ENTRIES, self.ledger_entries),
            (_INSERT_TIMELINE, self.timeline),
            (_INSERT_OUTBOX, self.outbox),
        ):
            await statement.execute(session, rows)
            rows.clear()
        await self.write_timers(session)

    def _changed_rows(self) -> Iterator[Any]:
        yield from (case for case in self.cases.values() if case is not None)
        for escalations in self.escalations.values():
            yield from escalations

    # -- timers --------------------------------------------------------------------------------

    def cancel_timer(self, case_id: str, kinds: list[str], now: datetime) -> None:
        self.timer_ops += [_TimerOp(case_id, kind, cancel_at=now) for kind in kinds]

    def schedule_timer(self, case_id: str, kind: str, due_at: datetime) -> None:
        self.timer_ops.append(_TimerOp(case_id, kind, due_at=due_at))

    async def write_timers(self, session: AsyncSession) -> None:
        """Apply the queued timer changes, each case's in the order they were made. Changes of
        different cases touch different rows, so the n-th change of every case goes out in one
        array statement per kind of change (`_CANCEL_TIMERS`, `_SCHEDULE_TIMERS`)."""
        per_case: dict[str, list[_TimerOp]] = defaultdict(list)
        for op in self.timer_ops:
            per_case[op.case_id].append(op)
        self.timer_ops = []
        rounds = max((len(ops) for ops in per_case.values()), default=0)
        for n in range(rounds):
            ops = [ops[n] for ops in per_case.values() if len(ops) > n]
            cancels = [
                {"case_id": o.case_id, "kind": o.kind, "cancelled_at": o.cancel_at}
                for o in ops
                if o.cancel_at is not None
            ]
            schedules = [
                {"case_id": o.case_id, "kind": o.kind, "due_at": o.due_at}
                for o in ops
                if o.cancel_at is None
            ]
            await _CANCEL_TIMERS.execute(session, cancels)
            await _SCHEDULE_TIMERS.execute(session, schedules)


# The read-only facts of a batch's returns, each table's rows as an array of its row type: one
# round trip where a statement per table took four (reconciliation's up-front reads were 30 % of
# its Python samples under the end-to-end load, `docs/cpu-journal.md`). The driver decodes each
# row with its columns' own types and the connection's JSON codec, as SQLAlchemy's rows had them;
# each table's order is the one its own statement had.
_READ_FACTS = (
    "SELECT"
    f" ARRAY(SELECT r FROM {ReturnRecord.__tablename__} r WHERE r.return_id = ANY($1::text[])),"
    f" ARRAY(SELECT s FROM {ShipmentEventRecord.__tablename__} s"
    " WHERE s.return_id = ANY($1::text[]) ORDER BY s.occurred_at, s.event_id),"
    f" ARRAY(SELECT a FROM {EvidenceAddition.__tablename__} a"
    " WHERE a.return_id = ANY($1::text[]) ORDER BY a.added_at),"
    f" ARRAY(SELECT f FROM {AssessmentRecord.__tablename__} f"
    " WHERE f.return_id = ANY($1::text[]) ORDER BY f.assessed_at)"
)

# A plain row class per table and column list: attribute access by the models' names, as the
# repositories read SQLAlchemy's rows.
_ROW_CLASSES: dict[tuple[str, ...], type[Any]] = {}


def _plain_rows(records: list[Any] | None) -> list[Any]:
    if not records:
        return []
    columns = tuple(records[0].keys())
    row_class = _ROW_CLASSES.get(columns)
    if row_class is None:
        row_class = _ROW_CLASSES[columns] = namedtuple("FactRow", columns)
    return [row_class(*record.values()) for record in records]


async def _read_facts(session: AsyncSession, ids: list[str]) -> list[list[Any]]:
    """The returns, scans, evidence additions and assessments of `ids`, in the session's
    transaction (so under the cases' locks just taken, and seeing the batch's own inserts)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    record = await driver.fetchrow(_READ_FACTS, ids)
    assert record is not None
    return [_plain_rows(tables) for tables in record.values()]


def current(session: AsyncSession) -> BatchView | None:
    """The view of the batch this session is handling, if any."""
    return unit_of(session).find(BatchView)


# One array insert per fact table and column set (a table's rows always carry the same
# columns): the multi-row VALUES the ORM wrote had a text per row count, prepared again for
# most batches.
_FACT_INSERTS: dict[tuple[type[Any], tuple[str, ...]], ArrayInsert] = {}


def _fact_insert(model: type[Any], row: dict[str, Any]) -> ArrayInsert:
    columns = tuple(row)
    insert = _FACT_INSERTS.get((model, columns))
    if insert is None:
        insert = ArrayInsert(table_of(model), columns, new_only_returning=_FACT_KEYS[model])
        _FACT_INSERTS[(model, columns)] = insert
    return insert


async def prepare(
    session: AsyncSession, facts: list[tuple[type[Any], dict[str, Any]]], return_ids: set[str]
) -> BatchView:
    """Insert the batch's facts (hidden), lock its returns' cases and read their facts."""
    view = BatchView(return_ids=set(return_ids))
    per_table: dict[type[Any], dict[Any, dict[str, Any]]] = defaultdict(dict)
    for model, row in facts:
        # The first of several events carrying the same fact stores it, as one by one.
        per_table[model].setdefault(row[_FACT_KEYS[model]], row)
    for model, rows in per_table.items():
        created = await _fact_insert(model, next(iter(rows.values()))).insert_new(
            session, list(rows.values())
        )
        for key, row in rows.items():
            view.prepared[(model, key)] = key in created
            if key in created:
                view.hide(model, key, row["return_id"])
    if not return_ids:
        return view

    ids = sorted(return_ids)
    # One lock statement in case_id order: batches of different consumers never wait on each
    # other in a cycle.
    for case in await session.scalars(
        select(Case)
        .where(among(Case.return_id, ids), Case.ownership_refused_at.is_(None))
        .order_by(Case.case_id)
        .with_for_update()
    ):
        view.cases[case.return_id] = case
    for esc in await session.scalars(
        select(EscalationRecord)
        .where(among(EscalationRecord.return_id, ids))
        .order_by(EscalationRecord.filed_at, EscalationRecord.escalation_id)
    ):
        view.escalations[esc.return_id].append(esc)
    # Returns, scans, evidence and scores are only read by the handlers: plain rows (with the
    # same attribute names) spare building an ORM object for each, and the four tables come in
    # one statement (`_READ_FACTS`). Escalations and cases are changed by the handlers, so they
    # are ORM objects of the session.
    returns, scans, additions, assessments = await _read_facts(session, ids)
    for ret in returns:
        view.returns[ret.return_id] = ret
    for scan in scans:
        view.scans[scan.return_id].append(scan)
    for addition in additions:
        view.additions[addition.return_id].append(addition)
    for assessment in assessments:
        view.assessments[assessment.return_id].append(assessment)
    return view


def assessments_for(
    view: BatchView, *, return_id: str, escalation_ids: list[str], subject_ids: list[UUID]
) -> list[AssessmentRecord]:
    if not escalation_ids and not subject_ids:
        return []
    escalations, subjects = set(escalation_ids), set(subject_ids)
    return [
        a
        for a in view.visible(AssessmentRecord, view.assessments.get(return_id, ()))
        if a.escalation_id in escalations or a.subject_event_id in subjects
    ]
