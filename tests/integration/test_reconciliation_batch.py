"""A consumer batch handled set-wise (`facts.batch`) leaves exactly what handling its events one
after the other leaves: the same cases, timeline, case events in the same order, ledger postings,
timers and escalation dispositions — including several facts of one case in one batch, a fact
that arrives again under a new event id, and facts a later event of the batch brings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from services.reconciliation.cases.handlers import build_handlers
from shared.clock import ManualClock
from shared.db import make_engine, make_sessionmaker
from shared.envelope import Envelope
from shared.kafka.consumer import EventHandlers, HandlerContext
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    _migrate,
    assessed,
    escalation,
    evidence_added,
    return_initiated,
    scan,
)

NOW = T0 + timedelta(days=3, minutes=5)


def _env(payload: Any) -> Envelope:
    return Envelope(payload, source="test")


def _scenario() -> tuple[list[Envelope], list[Envelope]]:
    """A first batch that leaves cases in several states, then a second batch on top of it."""
    first: list[Envelope] = []
    second: list[Envelope] = []

    # A: every fact of a claim, and its score, in one batch (decided and settled in it).
    a = uid("RET-BA")
    esc_a = _env(escalation(a, claim="WRONG_ITEM", amount=199_900))
    first += [
        _env(return_initiated(a, qc_required=True)),
        _env(scan(a, "QC_PASSED", T0 - timedelta(minutes=10), weight=1000)),
        _env(scan(a, "PICKED_UP", T0, weight=1000)),
        _env(scan(a, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=990)),
        esc_a,
        _env(assessed(esc_a)),
    ]

    # B: a ready case from the first batch, scored in the second — twice, the second time as
    # the same assessment under a new event id (a re-publication upstream).
    b = uid("RET-BB")
    esc_b = _env(escalation(b, claim="DAMAGED"))
    first += [
        _env(return_initiated(b, partner="rapidroute")),
        _env(scan(b, "PICKED_UP", T0, weight=1000, partner="rapidroute")),
        _env(
            scan(
                b, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner="rapidroute"
            )
        ),
        esc_b,
    ]
    score_b = assessed(esc_b)
    second += [_env(score_b), _env(score_b)]

    # C: the partner declares the return lost: a proactive case opens (P1) in the batch.
    c = uid("RET-BC")
    second += [
        _env(return_initiated(c, partner="desipost")),
        _env(scan(c, "PICKED_UP", T0, weight=800, partner="desipost")),
        _env(scan(c, "LOST", T0 + timedelta(days=1), partner="desipost")),
    ]

    # D: the score arrives before the claim it scores, in the same batch; then a second claim
    # for the same return (merged, E2) and evidence for the first.
    d = uid("RET-BD")
    esc_d = _env(escalation(d, claim="USED_ITEM", items=[]))
    second += [
        _env(assessed(esc_d, band="MEDIUM")),
        _env(return_initiated(d)),
        _env(scan(d, "PICKED_UP", T0, weight=1000)),
        esc_d,
        _env(escalation(d, claim="DAMAGED")),
        _env(
            evidence_added(
                esc_d.payload,  # type: ignore[arg-type]
                ["UNBOXING_VIDEO"],
                T0 + timedelta(days=3, minutes=2),
            )
        ),
        _env(scan(d, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000)),
    ]

    # E: a fraud score HIGH for a complete claim: the case goes to review, not to payment.
    e = uid("RET-BE")
    esc_e = _env(escalation(e, claim="DAMAGED"))
    second += [
        _env(return_initiated(e)),
        _env(scan(e, "PICKED_UP", T0, weight=1000)),
        _env(scan(e, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000)),
        esc_e,
        _env(assessed(esc_e, band="HIGH")),
    ]

    # F: another partner declares the return lost: refused (and discarded) in the batch too.
    f = uid("RET-BF")
    second += [
        _env(return_initiated(f)),
        _env(scan(f, "LOST", T0 + timedelta(days=1), partner="desipost")),
        _env(scan(f, "PICKED_UP", T0, weight=1000)),
    ]
    return first, second


async def _run(url: str, batches: list[list[Envelope]], *, together: bool) -> dict[str, Any]:
    clock = ManualClock(NOW)
    handlers: EventHandlers = build_handlers(lambda: clock)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    try:
        for envelopes in batches:
            async with sessionmaker() as session, session.begin():
                contexts = [HandlerContext(session, env, "test") for env in envelopes]
                if together:
                    assert handlers.batch_handler is not None
                    await handlers.batch_handler(contexts)
                else:
                    for ctx in contexts:
                        await handlers.dispatch(ctx)
            clock.advance(timedelta(seconds=1))
        return await _snapshot(sessionmaker)
    finally:
        await engine.dispose()


async def _rows(session: Any, query: str) -> list[dict[str, Any]]:
    return [dict(r) for r in (await session.execute(text(query))).mappings().all()]


async def _snapshot(sessionmaker: Any) -> dict[str, Any]:
    """Everything the handlers wrote, with generated ids replaced by the return they belong to."""
    async with sessionmaker() as session:
        cases = await _rows(session, "SELECT * FROM cases ORDER BY return_id")
        by_case = {c["case_id"]: c["return_id"] for c in cases}

        def strip(row: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in row.items() if k not in {"case_id", "decision", "proposal"}}

        timeline = await _rows(
            session,
            "SELECT case_id, case_version, kind, actor, reason, occurred_at, "
            "data->'event'->>'state' AS state FROM case_timeline ORDER BY id",
        )
        outbox = await _rows(
            session,
            "SELECT ce_subject, ce_type, topic, key, payload->>'state' AS state, "
            "payload->>'case_version' AS version, payload->>'reason' AS reason, "
            "payload->'decision'->>'rule_id' AS rule, payload->'decision'->>'payout' AS payout, "
            "payload->'decision'->'facts' AS facts FROM outbox ORDER BY id",
        )
        ledger = await _rows(
            session,
            "SELECT t.case_id, t.kind, t.description, e.account, e.amount, t.seq, e.id "
            "FROM ledger_transactions t JOIN ledger_entries e USING (transaction_id) "
            "ORDER BY t.seq, e.id",
        )
        timers = await _rows(
            session,
            "SELECT case_id, kind, due_at, cancelled_at IS NOT NULL AS cancelled "
            "FROM timers ORDER BY case_id, id",
        )
        escalations = await _rows(
            session,
            "SELECT escalation_id, return_id, disposition, case_id FROM escalations "
            "ORDER BY escalation_id",
        )
        facts = {
            table: (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            for table in ("returns", "shipment_events", "assessments", "evidence_additions")
        }
    return {
        "cases": [
            {**strip(c), "rule": (c["decision"] or {}).get("rule_id"), "has_case": True}
            for c in cases
        ],
        "timeline": [{**t, "case_id": by_case[t["case_id"]]} for t in timeline],
        "outbox": [{**o, "ce_subject": by_case[o["ce_subject"]]} for o in outbox],
        "ledger": [
            {
                "case_id": by_case[r["case_id"]],
                "kind": r["kind"],
                "description": r["description"].replace(r["case_id"], by_case[r["case_id"]]),
                "account": r["account"],
                "amount": r["amount"],
            }
            for r in ledger
        ],
        "ledger_order": [by_case[r["case_id"]] for r in ledger],
        # Timer ids are per case in creation order; across cases only the set matters.
        "timers": sorted(
            ({**t, "case_id": by_case[t["case_id"]]} for t in timers),
            key=lambda t: (t["case_id"], t["kind"], t["due_at"]),
        ),
        "escalations": [
            {**e, "case_id": by_case.get(e["case_id"]) if e["case_id"] else None}
            for e in escalations
        ],
        "facts": facts,
    }


async def test_a_batch_leaves_what_its_events_leave_one_by_one(harness: Harness) -> None:
    first, second = _scenario()
    one_by_one = await _run(
        await _migrate(harness, "test_recon_batch_seq"), [first, second], together=False
    )
    together = await _run(
        await _migrate(harness, "test_recon_batch_set"), [first, second], together=True
    )

    # The scenario reaches the states it is meant to exercise.
    states = {c["return_id"][:6]: c["state"] for c in one_by_one["cases"]}
    assert states["RET-BA"] == "CLOSED"
    assert states["RET-BB"] == "CLOSED"
    assert states["RET-BC"] not in (None, "CLOSED")
    assert states["RET-BE"] == "UNDER_REVIEW"
    assert one_by_one["facts"]["assessments"] == 4  # B's assessment stored once
    assert any(e["disposition"] == "MERGED" for e in one_by_one["escalations"])
    assert one_by_one["ledger"], "settlements were posted"

    for part in ("cases", "timeline", "outbox", "ledger", "timers", "escalations", "facts"):
        assert together[part] == one_by_one[part], part


async def test_a_batch_reads_its_returns_facts_in_one_statement_as_the_tables_hold_them(
    harness: Harness,
) -> None:
    """`batch.prepare` reads the returns, scans, evidence and assessments of a batch's returns in
    one statement (the cases' lock and the escalations, ORM objects the handlers change, are
    two more), and each row carries what a statement of its own table gives, with its types and
    in its order."""
    from sqlalchemy import event, select

    from services.reconciliation.facts import batch
    from services.reconciliation.models import (
        AssessmentRecord,
        EvidenceAddition,
        ReturnRecord,
        ShipmentEventRecord,
    )

    first, second = _scenario()
    url = await _migrate(harness, "test_recon_batch_read")
    await _run(url, [first, second], together=True)
    ids = sorted({e.payload.return_id for e in first + second})
    engine = make_engine(url)
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        sent.append(sql)

    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            event.listen(engine.sync_engine, "before_cursor_execute", note)
            try:
                view = await batch.prepare(session, [], set(ids))
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", note)
            tables: list[tuple[Any, Any, list[Any]]] = [
                (ReturnRecord, [], [view.returns[r] for r in ids if r in view.returns]),
                (
                    ShipmentEventRecord,
                    [ShipmentEventRecord.occurred_at, ShipmentEventRecord.event_id],
                    [s for r in ids for s in view.scans.get(r, [])],
                ),
                (
                    EvidenceAddition,
                    [EvidenceAddition.added_at],
                    [a for r in ids for a in view.additions.get(r, [])],
                ),
                (
                    AssessmentRecord,
                    [AssessmentRecord.assessed_at],
                    [a for r in ids for a in view.assessments.get(r, [])],
                ),
            ]
            for model, order, got in tables:
                table = model.__table__
                expected = [
                    row._asdict()
                    for row in await session.execute(
                        select(table)
                        .where(table.c.return_id.in_(ids))
                        .order_by(table.c.return_id, *(table.c[c.key] for c in order))
                    )
                ]
                assert expected, model  # the scenario stores some of each
                rows = [r._asdict() for r in got]
                assert rows == expected, model
                for row, want in zip(rows, expected, strict=True):
                    assert {k: type(v) for k, v in row.items()} == {
                        k: type(v) for k, v in want.items()
                    }, model
                    assert list(row) == list(want), model  # the models' attribute names
    finally:
        await engine.dispose()
    # The cases' lock and the escalations through the session; the four tables through the
    # driver in one statement.
    assert len(sent) == 2, sent
