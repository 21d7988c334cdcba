"""Every change of a case passes here: `emit` moves it (the transition table decides whether
it may), writes its timeline row and enqueues its case event; `note` adds a timeline row that is
not a move. Callers hold the case row lock and own the transaction; nothing here commits."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases.errors import IllegalTransition
from services.reconciliation.cases.transitions import EVENT_OF, Move, next_state
from services.reconciliation.facts import batch
from services.reconciliation.models import Case, Outbox, TimelineEntry
from shared.db import JsonDocument, JsonText
from shared.events import (
    CaseEventBase,
    CaseOrigin,
    CaseState,
    ClaimType,
    DecisionRecord,
    EventPayload,
)
from shared.outbox import note_enqueued, outbox_columns
from shared.unit_of_work import unit_of

SOURCE = "disputedesk/reconciliation"
SYSTEM = "system"


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class _LastDecisionDocument:
    """The JSON document of the decision record serialised last in this transaction, and its
    text once an event of a consumer batch asked for it."""

    __slots__ = ("record", "document", "text")

    def __init__(self) -> None:
        self.record: DecisionRecord | None = None
        self.document = JsonDocument({})
        self.text: bytes | None = None


def _last_decision(session: AsyncSession, record: DecisionRecord) -> _LastDecisionDocument:
    last = unit_of(session).get(_LastDecisionDocument)
    if last.record is not record:
        last.record, last.text = record, None
        last.document = JsonDocument(record.model_dump(mode="json"))
    return last


def decision_document(session: AsyncSession, record: DecisionRecord) -> dict[str, Any]:
    """The record's JSON document, made once: a decision's record goes into the case row and
    into each event that carries it (decided, then settled), one after the other, and was
    serialised for each. Do not change the document: the case row and the events share it."""
    return _last_decision(session, record).document


def _decision_text(session: AsyncSession, record: DecisionRecord) -> bytes:
    """The record's document as JSON text, encoded once for every event that carries it and
    for the case row's column that holds the document (the batch's `UPDATE` sends the text the
    document keeps)."""
    last = _last_decision(session, record)
    if last.text is None:
        last.text = to_json(last.document)
        last.document.text = last.text.decode()
    return last.text


_DECISION: set[str] = {"decision"}  # excluded from the event, added as its own document
# Excluded from the event's text, each added as its own member: the timeline keeps the event
# less the sealed address.
_DECISION_AND_CONTACT: set[str] = {"decision", "seller_contact"}


def event_document(session: AsyncSession, payload: EventPayload) -> dict[str, Any]:
    """The event's JSON document, its decision record's taken from `decision_document`."""
    decision = getattr(payload, "decision", None)
    if decision is None:
        document: dict[str, Any] = payload.model_dump(mode="json")
        return document
    document = payload.model_dump(mode="json", exclude=_DECISION)
    document["decision"] = decision_document(session, decision)
    return document


def _with_members(obj: bytes, members: bytes) -> bytes:
    """A JSON object's text with `members` (`"key":value,...`, none of its own keys) added."""
    if not members:
        return obj
    return obj[:-1] + (b"," if obj != b"{}" else b"") + members + b"}"


def _case_event_text(session: AsyncSession, payload: CaseEventBase) -> bytes:
    """A case event's JSON text less its sealed address: encoded once, straight from the
    model, with its decision record's text (`_decision_text`) put in as a member. The same
    document as `event_document` less `seller_contact` (`jsonb` keeps no key order)."""
    body = payload.__pydantic_serializer__.to_json(payload, exclude=_DECISION_AND_CONTACT)
    decision = payload.decision
    record = b"null" if decision is None else _decision_text(session, decision)
    return _with_members(body, b'"decision":' + record)


def timeline(session: AsyncSession, **row: Any) -> None:
    view = batch.current(session)
    if view is None:
        session.add(TimelineEntry(**row))
    else:
        view.timeline.append(row)  # inserted with the rest of the batch's rows


_PROACTIVE = CaseOrigin.PROACTIVE.value  # an enum member's value is a property, read per call


def seller_claimed(case: Case) -> bool:
    """Whether the seller filed the claim the case decides: false for a proactive case (P1-P3)
    no escalation of the seller has joined."""
    return case.origin != _PROACTIVE or case.primary_escalation_id is not None


@cache
def _fields_of(event_cls: type[CaseEventBase]) -> frozenset[str]:
    """An event class's field names, looked up once: `model_fields` on the class is a
    descriptor calling a class method on every read, twice per move."""
    return frozenset(event_cls.model_fields)


def emit(
    session: AsyncSession,
    case: Case,
    event_cls: type[CaseEventBase],
    *,
    move: Move,
    actor: str,
    reason: str,
    now: datetime,
    waiting_for: str | None = None,
    reason_code: str | None = None,
    decision: DecisionRecord | None = None,
    kind: str | None = None,
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> CaseEventBase:
    """Move the case (version + 1), record the timeline row and enqueue the case event. The one
    way a case changes: the transition table names the state `move` leads to, and a move it
    does not allow raises `IllegalTransition` before anything is changed."""
    previous = CaseState(case.state) if case.version > 0 else None
    if event_cls is not EVENT_OF[move]:
        raise IllegalTransition(previous, move.value, event=event_cls.__name__)
    state = next_state(previous, move, case)
    fields = _fields_of(event_cls)
    if "reason_code" in fields:
        extra.setdefault("reason_code", reason_code)
    if case.closure_reopened is not None and "closure_reopened" in fields:
        # The case's first answer after a partner's record undid the closure the seller holds:
        # that answer says so, once.
        extra["closure_reopened"] = case.closure_reopened
        case.closure_reopened = None
    if previous is CaseState.UNDER_REVIEW and state is not CaseState.UNDER_REVIEW:
        if case.sla_started_at is not None:
            case.sla_used_s += int((now - case.sla_started_at).total_seconds())
        case.sla_started_at = None
    if state is CaseState.UNDER_REVIEW and previous is not CaseState.UNDER_REVIEW:
        case.sla_started_at = now
    if previous is CaseState.AWAITING_EVIDENCE and state is not CaseState.AWAITING_EVIDENCE:
        case.reply_by = None
        case.evidence_requested_by = None
    case.version += 1
    case.state = state.value
    case.waiting_for = waiting_for
    case.reason_code = reason_code
    case.updated_at = now
    payload = event_cls(
        case_id=case.case_id,
        case_version=case.version,
        return_id=case.return_id,
        seller_id=case.seller_id,
        partner_id=case.partner_id,
        claim_type=ClaimType(case.claim_type) if case.claim_type else None,
        origin=CaseOrigin(case.origin),
        state=state,
        previous_state=previous,
        waiting_for=waiting_for,
        actor=actor,
        reason=reason,
        occurred_at=now,
        decision=decision,
        seller_contact=case.seller_contact,
        # A case the desk opened itself carries the item value as a stand-in claim for the
        # rules; the seller claimed nothing, and the event must not say they did.
        claimed_amount=case.claimed_amount if seller_claimed(case) else None,
        **extra,
    )
    view = batch.current(session)
    if view is None:
        document = publish(session, payload, subject=case.case_id, now=now)
        # The timeline keeps the event as published, less the sealed address: the document
        # the outbox row holds, not a second serialisation of the same event.
        event: Any = {k: v for k, v in document.items() if k != "seller_contact"}
        entry: Any = {"event": event, **(data or {})}
    else:
        # A consumer batch writes its rows as array inserts, which take a JSON column's text:
        # the event is encoded once, and the outbox row's and the timeline row's texts are
        # both cut from it, where each row's document was encoded on its own.
        text = _case_event_text(session, payload)
        contact = b'"seller_contact":' + to_json(payload.seller_contact)
        _enqueue(view, payload, subject=case.case_id, now=now, text=_with_members(text, contact))
        # `data` after the event, as in the dict above: a reader decoding the text keeps the
        # last of a repeated key.
        members = to_json(data)[1:-1] if data else b""
        entry = JsonText(_with_members(b'{"event":' + text + b"}", members).decode())
    timeline(
        session,
        case_id=case.case_id,
        case_version=case.version,
        kind=kind or event_cls.__name__,
        actor=actor,
        reason=reason,
        data=entry,
        occurred_at=now,
    )
    if previous is not state:
        metrics.case_entered(session, state.value)
    return payload


def publish(
    session: AsyncSession, payload: EventPayload, *, subject: str, now: datetime
) -> dict[str, Any]:
    """Enqueue an event on the outbox, with the batch's rows when a consumer batch is open.
    Returns the event's JSON document (do not change it: the outbox row holds it)."""
    row = outbox_columns(payload, source=SOURCE, subject=subject, time=now)
    row["payload"] = document = event_document(session, payload)
    view = batch.current(session)
    if view is None:
        session.add(Outbox(**row))
        note_enqueued(session)
    else:
        view.outbox.append(row)
    return document


def _enqueue(
    view: batch.BatchView, payload: EventPayload, *, subject: str, now: datetime, text: bytes
) -> None:
    """`publish` on a consumer batch, of an event whose JSON text the caller encoded."""
    row = outbox_columns(payload, source=SOURCE, subject=subject, time=now)
    row["payload"] = JsonText(text.decode())
    view.outbox.append(row)


def note(
    session: AsyncSession,
    case: Case,
    *,
    kind: str,
    actor: str,
    reason: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """A timeline row that is not a transition (emails sent, late appeals, refunds)."""
    timeline(
        session,
        case_id=case.case_id,
        case_version=case.version,
        kind=kind,
        actor=actor,
        reason=reason,
        data=as_json(data) if data else None,
        occurred_at=now,
    )
