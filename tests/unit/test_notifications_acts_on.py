"""The consumer skips a case event or a rating before opening a transaction when notifications'
handler would write nothing for it (`acts_on_case_event`, `acts_on_feedback`): the predicate
must agree with what the handler composes and records, for every kind of event it handles."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from services.notifications.catalogue import samples
from services.notifications.messages.composing import (
    cancels_reminder,
    compose_case_event,
    compose_feedback,
    replaces_acknowledgement,
)
from services.notifications.messages.handlers import build_handlers
from services.notifications.messages.service import (
    CALL_WITH_SELLER,
    acts_on_case_event,
    acts_on_feedback,
)
from services.notifications.settings import NotificationsSettings
from shared.clock import SystemClock
from shared.envelope import Envelope
from shared.events import CaseEventBase, CaseNoteAdded, CaseState, CaseUpdated
from shared.pii import ContactOpener

AT = datetime(2026, 11, 2, 10, tzinfo=UTC)
ADDRESS = "seller.acts@example.com"
STATES = [None, CaseState.OPEN, CaseState.AWAITING_EVIDENCE, CaseState.UNDER_REVIEW]


def _variants() -> list[CaseEventBase]:
    """Every case event type notifications handles, across the fields that decide whether it
    is news: previous state, version, change, trigger rule, payout, call counterpart."""
    base = samples.case_opened("CASE-ACTS", AT).model_dump()
    for key in (
        "type",
        "expected_decision_by",
        "trigger_rule",
        "awaiting_return_until",
        "awaiting_delivery_until",
        "asks_for_evidence",
        "asks_once_facts_are_in",
    ):
        base.pop(key)
    out: list[CaseEventBase] = []
    for previous, version in itertools.product(STATES, (1, 2, 5)):
        over: dict[str, Any] = {"previous_state": previous, "case_version": version}
        made = [
            samples.case_opened("CASE-ACTS", AT),
            samples.case_opened("CASE-ACTS", AT, trigger_rule="P2"),
            samples.case_opened("CASE-ACTS", AT, trigger_rule="P1"),
            samples.evidence_requested("CASE-ACTS", AT),
            samples.case_decided("CASE-ACTS", AT),
            samples.case_rejected("CASE-ACTS", AT),
            samples.case_escalated("CASE-ACTS", AT),
            samples.case_appealed("CASE-ACTS", AT),
            samples.case_settled("CASE-ACTS", AT),
            samples.case_under_review("CASE-ACTS", AT),
        ]
        out += [e.model_copy(update=over) for e in made]
        settled = samples.case_settled("CASE-ACTS", AT)
        out.append(settled.model_copy(update=over | {"ledger_transaction_id": None}))
        for change in (
            "EVIDENCE_ADDED",
            "ASSIGNED",
            "REOPENED",
            "ESCALATION_MERGED",
            "DUPLICATE_CLAIM_REJECTED",
            "APPEAL_LATE",
            "DECISION_OVERDUE",
            "DECISION_STILL_OVERDUE",
            "SELLER_WROTE",
        ):
            out.append(CaseUpdated(**base | over | {"change": change}))
        out.append(samples.proposal_replaced("CASE-ACTS", AT).model_copy(update=over))
        out.append(
            samples.proposal_replaced("CASE-ACTS", AT).model_copy(
                update=over | {"decision": samples.decision_record(AT, payout=3_000_000)}
            )
        )
        for counterpart in (None, CALL_WITH_SELLER, "PARTNER"):
            out.append(
                CaseNoteAdded(**base | over | {"note": "called", "call_counterpart": counterpart})
            )
    return out


def test_a_case_event_is_skipped_exactly_when_its_handler_would_write_nothing() -> None:
    settings = NotificationsSettings()
    skipped = 0
    for event in _variants():
        composition = compose_case_event(event, settings, now=AT, seller_address=ADDRESS)
        writes = (
            bool(composition.drafts or composition.lessons)
            or cancels_reminder(event)
            # A filing's acknowledgement worded for the wait may need replacing.
            or replaces_acknowledgement(event)
            or (isinstance(event, CaseNoteAdded) and event.call_counterpart == CALL_WITH_SELLER)
        )
        assert acts_on_case_event(event) == writes, event
        skipped += not writes
    assert skipped > 10  # the variants do include events that cost nothing now


def test_only_a_negative_rating_may_lead_to_outreach() -> None:
    settings = NotificationsSettings()
    for rating in range(1, 6):
        event = samples.seller_feedback(AT, rating=rating)
        drafts = compose_feedback(event, settings, seller_address=ADDRESS).drafts
        assert acts_on_feedback(event) == bool(drafts)


def test_the_consumer_sees_the_predicates_through_the_handlers() -> None:
    handlers = build_handlers(
        NotificationsSettings(), SystemClock(), ContactOpener.__new__(ContactOpener)
    )
    idle = samples.case_opened("CASE-ACTS", AT, trigger_rule="P2")
    told = samples.case_opened("CASE-ACTS", AT)
    assert not handlers.acts_on(Envelope(idle, source="tests"))
    assert handlers.acts_on(Envelope(told, source="tests"))
