"""`emit` on a consumer batch's hot path: each case event is encoded once, as JSON text, and the
outbox row's and the timeline row's texts are cut from it: the timeline keeps the same document
the outbox publishes (less the sealed address)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases.timeline import SYSTEM, decision_document, emit, event_document
from services.reconciliation.cases.transitions import Move
from services.reconciliation.facts.batch import BatchView
from services.reconciliation.models import Case
from shared.db import JsonText
from shared.events import (
    CaseDecided,
    CaseOpened,
    CaseSettled,
    DecisionRecord,
    LiableParty,
    Outcome,
)
from shared.unit_of_work import unit_of

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _case() -> Case:
    return Case(
        case_id="CASE-EMIT-1",
        return_id="RET-EMIT-1",
        seller_id="S-EMIT",
        claim_type="DAMAGED",
        claimed_amount=1000,
        origin="SELLER",
        state="OPEN",
        version=0,
        seller_contact="sc1.test-key.c2VhbGVk",  # sealed form; reconciliation never opens it
        opened_at=NOW,
        updated_at=NOW,
        sla_used_s=0,
    )


def test_a_batch_serialises_each_case_event_once(monkeypatch: pytest.MonkeyPatch) -> None:
    dumps: list[dict[str, Any]] = []
    original = CaseOpened.model_dump

    def counted(self: CaseOpened, **kwargs: Any) -> dict[str, Any]:
        dumps.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(CaseOpened, "model_dump", counted)
    session = AsyncSession()  # never touches a database: the batch's view buffers every row
    view = BatchView(return_ids={"RET-EMIT-1"})
    unit_of(session).put(view)

    case = _case()
    opened = emit(
        session,
        case,
        CaseOpened,
        move=Move.OPEN,
        actor=SYSTEM,
        reason="Seller filed a claim.",
        now=NOW,
        expected_decision_by=NOW,
    )

    assert dumps == []  # encoded straight to text, no document in between
    # Both rows' JSON columns go to the array inserts as the text made here, not encoded again.
    assert type(view.outbox[0]["payload"]) is JsonText
    assert type(view.timeline[0]["data"]) is JsonText
    published = json.loads(view.outbox[0]["payload"])
    assert published == opened.model_dump(mode="json")
    assert published["seller_contact"] == case.seller_contact
    kept = json.loads(view.timeline[0]["data"])
    assert kept == {"event": {k: v for k, v in published.items() if k != "seller_contact"}}


def test_the_batch_rows_hold_what_a_single_event_writes() -> None:
    """The batch's texts against the one-by-one path's documents, for an event whose timeline
    row has data of its own and an event with no sealed address."""
    rows: dict[str, tuple[Any, Any]] = {}
    for path in ("single", "batch"):
        session = AsyncSession()
        view = BatchView(return_ids={"RET-EMIT-1"})
        if path == "batch":
            unit_of(session).put(view)
        else:
            session.add = view.timeline.append  # type: ignore[method-assign]
        case = _case()
        case.seller_contact = None
        case.state, case.version = "OPEN", 2
        case.decision = decision_document(session, _record())
        event = emit(
            session,
            case,
            CaseDecided,
            move=Move.DECIDE,
            actor=SYSTEM,
            reason="Decided.",
            now=NOW,
            decision=_record(),
            data={"reversals": ["r-1"], "note": "ünïcode"},
            paid_before=0,
        )
        if path == "single":
            outbox, entry = view.timeline  # the Outbox, then the TimelineEntry added
            rows[path] = (outbox.payload, entry.data)
            assert outbox.payload == event_document(session, event)
        else:
            rows[path] = (
                json.loads(view.outbox[0]["payload"]),
                json.loads(view.timeline[0]["data"]),
            )
    assert rows["batch"] == rows["single"]
    assert rows["batch"][1]["note"] == "ünïcode"
    assert rows["batch"][0]["seller_contact"] is None


def _record() -> DecisionRecord:
    return DecisionRecord(
        policy_version="sop-v1",
        rule_id="L6",
        outcome=Outcome.GRANTED,
        liable_party=LiableParty.PARTNER,
        payout_pct=100,
        payout=1000,
        partner_debit=1000,
        facts={"return_known": True, "claim_type": "DAMAGED", "filed_at": NOW.isoformat()},
        explanation="The partner damaged the item in transit.",
        decided_at=NOW,
    )


def test_a_decision_record_is_serialised_once_for_the_case_and_both_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = _record()
    dumps: list[dict[str, Any]] = []
    original = DecisionRecord.model_dump

    def counted(self: DecisionRecord, **kwargs: Any) -> dict[str, Any]:
        dumps.append(kwargs)
        return original(self, **kwargs)

    session = AsyncSession()
    view = BatchView(return_ids={"RET-EMIT-1"})
    unit_of(session).put(view)
    case = _case()
    case.state, case.version = "OPEN", 2
    monkeypatch.setattr(DecisionRecord, "model_dump", counted)
    case.decision = decision_document(session, record)
    decided = emit(
        session,
        case,
        CaseDecided,
        move=Move.DECIDE,
        actor=SYSTEM,
        reason=record.explanation,
        now=NOW,
        decision=record,
        appeal_by=NOW,
        paid_before=0,
    )
    settled = emit(
        session,
        case,
        CaseSettled,
        move=Move.SETTLE,
        actor=SYSTEM,
        reason="Settled.",
        now=NOW,
        decision=record,
        paid_before=0,
    )

    assert len(dumps) == 1
    monkeypatch.undo()
    # Each document is the event's own serialisation, the record's part included.
    for row, event in zip(view.outbox, (decided, settled), strict=True):
        assert json.loads(row["payload"]) == event.model_dump(mode="json")
        assert json.loads(row["payload"])["decision"] == case.decision


def test_the_case_row_s_decision_is_written_as_the_text_its_events_carry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch's `UPDATE` of the case row sends the record's text made for its events, not a
    second encoding of the same document."""
    from shared import db

    record = _record()
    session = AsyncSession()
    view = BatchView(return_ids={"RET-EMIT-1"})
    unit_of(session).put(view)
    case = _case()
    case.state, case.version = "OPEN", 2
    case.decision = decision_document(session, record)
    emit(
        session,
        case,
        CaseDecided,
        move=Move.DECIDE,
        actor=SYSTEM,
        reason=record.explanation,
        now=NOW,
        decision=record,
        appeal_by=NOW,
        paid_before=0,
    )
    expected = db.json_text(dict(case.decision))
    encoded: list[Any] = []
    original = db.json_text

    def counted(value: Any) -> str:
        encoded.append(value)
        return original(value)

    monkeypatch.setattr(db, "json_text", counted)
    params = db._array_params(("decision",), {"decision"}, [{"decision": case.decision}])

    assert params == {"decision": [expected]}
    assert encoded == []
    assert json.loads(view.outbox[0]["payload"])["decision"] == json.loads(expected)
