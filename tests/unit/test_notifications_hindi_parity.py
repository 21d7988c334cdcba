"""Every seller email says the same facts in Hindi as in English: the same amounts, the same
moments (India time with UTC), the same case and return ids and the same counts of days and
hours, for each outcome the SOP can give (pure: compose, then render both languages)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest

from services.notifications.catalogue import samples
from services.notifications.channels.smtp import subject_header
from services.notifications.messages.composing import (
    SELLER,
    compose_appeal_without_case,
    compose_case_event,
    digest_context,
)
from services.notifications.messages.rendering import india_date, render, seller_time
from services.notifications.messages.wording_hi import MONTHS, date_hi, time_hi
from services.notifications.settings import NotificationsSettings
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import (
    CaseEventBase,
    CaseOrigin,
    CaseState,
    ClaimType,
    LiableParty,
    Outcome,
    SettlementWait,
)

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 21, 45, tzinfo=UTC)  # late evening UTC: the next day in India
TO = "seller@example.com"
AMOUNT = re.compile(r"₹[\d,]+\.\d\d")
UTC_STAMP = re.compile(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC")
IDENTIFIER = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b")
NUMBER = re.compile(r"(?<![\w,.:₹])\d+(?![\w,:])")


def _rejection(code: str, **over: object) -> CaseEventBase:
    event = samples.case_rejected(f"C-{code}", AT)
    assert event.decision is not None
    decision = event.decision.model_copy(update={"reason_code": code})
    return event.model_copy(update={"decision": decision, **over})


def _decided(**decision_over: object) -> CaseEventBase:
    event = samples.case_decided("C-DEC", AT)
    assert event.decision is not None
    return event.model_copy(update={"decision": event.decision.model_copy(update=decision_over)})


def _proactive(event: CaseEventBase) -> CaseEventBase:
    return event.model_copy(update={"origin": CaseOrigin.PROACTIVE, "claimed_amount": None})


def _events() -> Iterator[tuple[str, CaseEventBase]]:
    yield "ack", samples.case_opened("C-ACK", AT)
    yield "ack-proactive", _proactive(samples.case_opened("C-P1", AT, trigger_rule="P1"))
    yield (
        "ack-awaiting-return",
        samples.case_opened("C-E1", AT, awaiting_return_until=AT + timedelta(hours=48)),
    )
    for missing in (["RETURN"], ["DELIVERY_SCAN"], ["RETURN", "DELIVERY_SCAN"]):
        yield (
            f"review-missing-{'-'.join(missing)}",
            samples.case_under_review(
                "C-MF", AT, reason_code="MISSING_FACTS", facts_missing=missing
            ),
        )
    yield (
        "ack-awaiting-delivery",
        samples.case_opened("C-E1D", AT, awaiting_delivery_until=AT + timedelta(hours=48)),
    )
    # A filing merged into E1's wait: the record awaited and the wait's own end.
    for field in ("awaiting_return_until", "awaiting_delivery_until"):
        yield (
            f"merged-{field}",
            samples.escalation_merged("C-E1M", AT, origin=CaseOrigin.SELLER).model_copy(
                update={field: AT + timedelta(hours=40), "state": CaseState.OPEN}
            ),
        )
    yield (
        "ack-reopened",
        samples.escalation_merged("C-RE", AT, origin=CaseOrigin.SELLER).model_copy(
            update={"change": "REOPENED", "state": CaseState.OPEN}
        ),
    )
    # E1 first: the evidence request follows only if the claim goes on once the facts are in.
    yield (
        "ack-evidence-after-facts",
        samples.case_opened(
            "C-E1E",
            AT,
            awaiting_return_until=AT + timedelta(hours=48),
            asks_for_evidence=True,
            asks_once_facts_are_in=True,
        ),
    )
    yield "evidence", samples.evidence_requested("C-EV", AT)
    yield "decision-overdue", samples.decision_overdue("C-OVD", AT)
    yield (
        "appeal-overdue",
        samples.decision_overdue("C-OVA", AT).model_copy(
            update={"state": CaseState.APPEALED, "previous_state": CaseState.APPEALED}
        ),
    )
    yield (
        "duplicate-under-appeal",
        samples.duplicate_filing("C-DUA", AT).model_copy(
            update={
                "state": CaseState.APPEALED,
                "appeal_by": AT + timedelta(days=5),
                "next_step_by": AT + timedelta(hours=40),
            }
        ),
    )
    yield "evidence-p2", samples.evidence_requested("C-P2", AT, origin=CaseOrigin.PROACTIVE)
    # Asked again: what reached us so far, counted, and a stated weight.
    yield (
        "evidence-asked-again",
        samples.evidence_requested("C-EVA", AT, case_version=5).model_copy(
            update={"received": {"PHOTO": 1, "LABEL_PHOTO": 1}, "received_weight_g": 900}
        ),
    )
    # A first request naming what came with the claim, and asking only for the rest of each
    # acceptable set (and the same for an answer, and a missing item's video and weight).
    yield (
        "evidence-first-with-claim-evidence",
        samples.evidence_requested("C-EVF", AT).model_copy(
            update={
                "received": {"PHOTO": 1},
                "answers_evidence": False,
                "still_needed": [{"UNBOXING_VIDEO": 1}, {"PHOTO": 1, "LABEL_PHOTO": 1}],
            }
        ),
    )
    yield (
        "evidence-asked-again-for-the-rest",
        samples.evidence_requested("C-EVR", AT, case_version=5).model_copy(
            update={
                "received": {"PHOTO": 2, "INVOICE": 1},
                "answers_evidence": True,
                "still_needed": [{"UNBOXING_VIDEO": 1}, {"LABEL_PHOTO": 1}],
            }
        ),
    )
    yield (
        "evidence-first-missing-item",
        samples.evidence_requested("C-EVM", AT).model_copy(
            update={
                "received": {"PHOTO": 3},
                "answers_evidence": False,
                "still_needed": [{"UNBOXING_VIDEO": 1, "RECEIVED_WEIGHT_G": 1}],
            }
        ),
    )
    yield "evidence-desk", samples.evidence_requested("C-EVD", AT, actor="agent-3")
    for claim_type, checklist in SOP_V1.evidence.items():
        if checklist.checklist:
            event = samples.evidence_requested(f"C-{claim_type.value}", AT)
            yield (
                f"evidence-sop-{claim_type.value}",
                event.model_copy(update={"checklist": list(checklist.checklist)}),
            )
    yield "granted", samples.case_decided("C-GR", AT)
    yield (
        "partial-buyer",
        _decided(
            rule_id="L11",
            outcome=Outcome.PARTIAL,
            liable_party=LiableParty.BUYER,
            payout_pct=50,
            payout=61_728,
            partner_debit=0,
            buyer_receivable=61_728,
            marketplace_cost=0,
        ),
    )
    yield (
        "denied-l4",
        _decided(
            rule_id="L4",
            outcome=Outcome.DENIED,
            liable_party=LiableParty.SELLER,
            payout_pct=0,
            payout=0,
            partner_debit=0,
            marketplace_cost=0,
        ),
    )
    yield "granted-proactive", _proactive(samples.case_decided("C-P1D", AT))
    for code in ("EVIDENCE_NOT_PROVIDED", "CLAIM_WINDOW_EXPIRED", "PREMATURE_CLAIM"):
        yield code, _rejection(code)
    yield "SELLER_MISMATCH", _rejection("SELLER_MISMATCH", appeal_by=None)
    yield "p2-window-passed", _proactive(_rejection("CLAIM_WINDOW_EXPIRED"))
    yield "appeal-overturned", samples.appeal_decided("C-AP", AT)
    # An overturn that raises a payout already made: the emails say what it replaces.
    yield (
        "appeal-overturned-raised",
        samples.appeal_decided("C-APR2", AT).model_copy(update={"paid_before": 45_000}),
    )
    overturned = samples.appeal_decided("C-APZ", AT)
    assert overturned.decision is not None
    yield (
        "appeal-overturned-to-nothing",
        overturned.model_copy(
            update={
                "paid_before": 45_000,
                "decision": overturned.decision.model_copy(update={"payout": 0}),
            }
        ),
    )
    yield "appeal-overturned-proactive", _proactive(samples.appeal_decided("C-APP", AT))
    # A payment held for finance and the warehouse (a settlement hold): whom, and by when.
    held = [
        SettlementWait(team="finance", expected_by=AT + timedelta(hours=24)),
        SettlementWait(team="warehouse", expected_by=AT + timedelta(hours=30)),
    ]
    yield "granted-held", samples.case_decided("C-HLD", AT, settlement_waits=held)
    yield "appeal-overturned-held", samples.appeal_decided("C-APH", AT, settlement_waits=held)
    # A check the desk asked for on this case, worded as the desk's, not as the policy's.
    desk_held = [SettlementWait(team="finance", expected_by=AT + timedelta(hours=24), kind="DESK")]
    yield "granted-desk-held", samples.case_decided("C-HLDD", AT, settlement_waits=desk_held)
    # The held payment missed the seller's date: an apology, what waits, the new date.
    yield "payment-delayed", samples.settlement_overdue("C-PDL", AT)
    # A seller's message answered: after the decision (in the appeal window, past it, under
    # appeal, final), and a text reply to an open case (waiting for evidence, with a person).
    wrote = samples.seller_wrote("C-MSG", AT)
    yield "message-after-decision", wrote
    yield (
        "message-window-passed",
        wrote.model_copy(update={"appeal_by": AT - timedelta(days=1), "message_evidence": {}}),
    )
    yield (
        "message-under-appeal",
        wrote.model_copy(
            update={"state": CaseState.APPEALED, "next_step_by": AT + timedelta(hours=48)}
        ),
    )
    yield "message-final", wrote.model_copy(update={"appeal_by": None})
    yield (
        "message-seller-mismatch",
        wrote.model_copy(
            update={
                "state": CaseState.REJECTED,
                "appeal_by": None,
                "decision": samples.decision_record(
                    AT,
                    rule_id="E1",
                    outcome=None,
                    liable_party=None,
                    payout_pct=0,
                    payout=0,
                    partner_debit=0,
                    marketplace_cost=0,
                    reason_code="SELLER_MISMATCH",
                    explanation="The marketplace's record of this return names another seller.",
                ),
            }
        ),
    )
    yield (
        "message-payment-waits",
        wrote.model_copy(update={"state": CaseState.DECIDED, "settlement_waits": held}),
    )
    waiting = wrote.model_copy(
        update={
            "state": CaseState.AWAITING_EVIDENCE,
            "decision": None,
            "appeal_by": None,
            "message_evidence": {},
            "next_step_by": AT + timedelta(hours=50),
            "evidence_missing": ["UNBOXING_VIDEO_OR_PHOTOS"],
            "evidence_received": {"PHOTO": 1},
            "evidence_still_needed": [{"PHOTO": 1, "LABEL_PHOTO": 1}, {"UNBOXING_VIDEO": 1}],
        }
    )
    yield "message-open-awaiting-evidence", waiting
    yield (
        "message-open-under-review",
        waiting.model_copy(update={"state": CaseState.UNDER_REVIEW, "evidence_missing": []}),
    )
    # Evidence sent while E1 waits for the return's record (or its delivery scan): the record
    # awaited and the wait's end, what is still missing, or that nothing more is needed.
    in_e1 = waiting.model_copy(
        update={
            "state": CaseState.OPEN,
            "message_evidence": {"PHOTO": 1},
            "next_step_by": AT + timedelta(hours=96),
            "awaiting_return_until": AT + timedelta(hours=48),
        }
    )
    yield "message-e1-awaiting-return", in_e1
    yield (
        "message-e1-awaiting-delivery-complete",
        in_e1.model_copy(
            update={
                "awaiting_return_until": None,
                "awaiting_delivery_until": AT + timedelta(hours=40),
                "evidence_missing": [],
                "evidence_received": {},
                "evidence_still_needed": [],
            }
        ),
    )
    # The proposal awaiting approval was replaced by one of another amount.
    yield "proposal-replaced", samples.proposal_replaced("C-PRR", AT)
    yield (
        "duplicate-payment-waits",
        samples.duplicate_filing("C-DPW", AT).model_copy(
            update={"state": CaseState.DECIDED, "settlement_waits": held}
        ),
    )
    yield (
        "settled-after-overturn",
        samples.case_settled("C-STR", AT).model_copy(update={"paid_before": 45_000}),
    )
    # An overturn that pays the same or less than the first decision paid (12,345,600 paise).
    for name, paid_before in (("same", 12_345_600), ("lowered", 12_400_000)):
        yield (
            f"appeal-overturned-{name}",
            samples.appeal_decided("C-APL", AT).model_copy(update={"paid_before": paid_before}),
        )
        yield (
            f"settled-after-overturn-{name}",
            samples.case_settled("C-STL", AT).model_copy(update={"paid_before": paid_before}),
        )
    for payout in (0, 61_728):
        event = samples.appeal_decided("C-APU", AT)
        assert event.decision is not None
        decision = event.decision.model_copy(
            update={"reason_code": "APPEAL_UPHELD_ORIGINAL", "payout": payout}
        )
        yield f"appeal-upheld-{payout}", event.model_copy(update={"decision": decision})
    for reason in ("SLA_BREACHED", "ABOVE_APPROVAL_CAP", "MANUAL"):
        yield f"escalated-{reason}", samples.case_escalated(f"C-{reason}", AT, reason)
    yield (
        "escalated-proactive",
        _proactive(samples.case_escalated("C-P1C", AT, "ABOVE_APPROVAL_CAP")),
    )
    for code in (
        None,
        "MISSING_FACTS",
        "FRAUD_ASSESSMENT_MISSING",
        "NO_RULE_MATCHED",
        "EVIDENCE_RECEIVED",
    ):
        yield f"review-{code}", samples.case_under_review("C-UR", AT, reason_code=code)
    # A review straight after opening: the date the acknowledgement gave holds.
    for code in ("FRAUD_REVIEW", "NO_RULE_MATCHED"):
        yield (
            f"review-at-opening-{code}",
            samples.case_under_review("C-URO", AT, reason_code=code).model_copy(
                update={"previous_state": CaseState.OPEN, "case_version": 2}
            ),
        )
    # E1's review of a claim still without its checklist: what the person deciding can use.
    for claim_type in (ClaimType.DAMAGED, ClaimType.MISSING_ITEM):
        yield (
            f"review-MISSING_FACTS-no-evidence-{claim_type.value}",
            samples.case_under_review("C-URE", AT, reason_code="MISSING_FACTS").model_copy(
                update={
                    "claim_type": claim_type,
                    "evidence_missing": list(SOP_V1.evidence[claim_type].checklist),
                }
            ),
        )
    # The same with part of the checklist received: what reached us, and only what is missing.
    partial = {
        "evidence_received": {"PHOTO": 1},
        "evidence_received_weight_g": None,
        "evidence_still_needed": [{"UNBOXING_VIDEO": 1}, {"PHOTO": 1, "LABEL_PHOTO": 1}],
    }
    yield (
        "review-MISSING_FACTS-part-evidence",
        samples.case_under_review("C-URP", AT, reason_code="MISSING_FACTS").model_copy(
            update={"evidence_missing": list(SOP_V1.evidence[ClaimType.DAMAGED].checklist)}
            | partial
        ),
    )
    yield (
        "review-MISSING_FACTS-part-evidence-weight",
        samples.case_under_review("C-URW", AT, reason_code="MISSING_FACTS").model_copy(
            update={
                "claim_type": ClaimType.MISSING_ITEM,
                "evidence_missing": list(SOP_V1.evidence[ClaimType.MISSING_ITEM].checklist),
                "evidence_received": {"UNBOXING_VIDEO": 1},
                "evidence_received_weight_g": None,
                "evidence_still_needed": [{"RECEIVED_WEIGHT_G": 1}],
            }
        ),
    )
    for state in (CaseState.OPEN, CaseState.UNDER_REVIEW):
        yield (
            f"merged-part-evidence-{state.value}",
            samples.escalation_merged("C-MGP", AT, origin=CaseOrigin.SELLER).model_copy(
                update={
                    "state": state,
                    "next_step_by": AT + timedelta(days=4),
                    "evidence_missing": list(SOP_V1.evidence[ClaimType.DAMAGED].checklist),
                }
                | partial
            ),
        )
    yield "settled", samples.case_settled("C-ST", AT)
    yield "merged", samples.escalation_merged("C-MG", AT)
    for state in (CaseState.OPEN, CaseState.UNDER_REVIEW, CaseState.ESCALATED):
        yield (
            f"merged-{state.value}",
            samples.escalation_merged("C-MG", AT, origin=CaseOrigin.SELLER).model_copy(
                update={
                    "state": state,
                    "next_step_by": None if state is CaseState.ESCALATED else AT + timedelta(1),
                }
            ),
        )
    # A claim still without its checklist joins a case waiting for facts (E1) or with a person.
    for state in (CaseState.OPEN, CaseState.UNDER_REVIEW):
        yield (
            f"merged-no-evidence-{state.value}",
            samples.escalation_merged("C-MGE", AT, origin=CaseOrigin.SELLER).model_copy(
                update={
                    "state": state,
                    "next_step_by": AT + timedelta(days=4),
                    "evidence_missing": list(SOP_V1.evidence[ClaimType.DAMAGED].checklist),
                }
            ),
        )
    # A claim without its evidence adopted by a case the desk opened: E4 asks in the same moment.
    yield (
        "merged-asks-evidence",
        samples.escalation_merged("C-MGA", AT).model_copy(
            update={"state": CaseState.OPEN, "next_step_by": None, "asks_for_evidence": True}
        ),
    )
    # A refiling after E3b still too early: the case stays closed, from when to file, and the
    # closure's appeal while it is still the seller's (the SOP's own E3b record; imported here,
    # that module imports this one's patterns).
    from tests.support.sop_records import sop_record

    for name, appeal_by in (("appealable", AT + timedelta(days=5)), ("appeal-used", None)):
        yield (
            f"refiled-too-early-{name}",
            samples.duplicate_filing("C-E3B", AT).model_copy(
                update={
                    "change": "REFILED_TOO_EARLY",
                    "state": CaseState.REJECTED,
                    "decision": sop_record("E3b"),
                    "appeal_by": appeal_by,
                }
            ),
        )
    for days in (3, -3):
        event = samples.duplicate_filing("C-DUP", AT).model_copy(
            update={"appeal_by": AT + timedelta(days=days)}
        )
        yield f"duplicate-{days}", event
    yield "appeal-late", samples.appeal_late("C-LATE", AT)
    yield "appeal-received", samples.case_appealed("C-APR", AT)
    unheard = samples.appeal_not_heard("C-ANH", AT)
    yield "appeal-before-decision", unheard
    yield (
        "appeal-before-decision-undated",
        unheard.model_copy(update={"state": CaseState.OPEN, "next_step_by": None}),
    )
    for state, due in ((CaseState.APPEALED, AT + timedelta(hours=48)), (CaseState.CLOSED, None)):
        yield (
            f"appeal-repeated-{state.value}",
            unheard.model_copy(
                update={"change": "APPEAL_REPEATED", "state": state, "next_step_by": due}
            ),
        )


def _moments(value: Any) -> Iterator[datetime]:
    if isinstance(value, datetime):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _moments(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _moments(item)


# A calendar date in either language (`20 Nov 2026`, `20 नवंबर 2026`), without its year's
# punctuation deciding whether the year reads as a count.
DATE = re.compile(
    rf"\b(\d{{1,2}}) ({'|'.join(calendar.month_abbr[1:] + list(MONTHS))}) (\d{{4}})(?!\d)"
)


def _dates(text: str) -> list[str]:
    """The dates the text states outside UTC stamps, as `day-month-year` in numbers."""
    text = UTC_STAMP.sub(" ", text)
    return sorted(f"{d}-{_month(m)}-{y}" for d, m, y in DATE.findall(text))


def _month(name: str) -> int:
    return MONTHS.index(name) + 1 if name in MONTHS else list(calendar.month_abbr).index(name)


def _numbers(text: str) -> list[str]:
    """Counts the text states (days, hours, grams, items), without amounts, UTC stamps, ids
    and dates (compared as dates, `_dates`)."""
    for pattern in (AMOUNT, UTC_STAMP, IDENTIFIER, DATE):
        text = pattern.sub(" ", text)
    return sorted(NUMBER.findall(text))


CASES = [
    pytest.param(event, draft.template, id=f"{name}:{draft.template}")
    for name, event in _events()
    for draft in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
    if draft.audience == SELLER
]


@pytest.mark.parametrize(("event", "template"), CASES)
def test_the_hindi_email_states_the_same_facts_as_the_english(
    event: CaseEventBase, template: str
) -> None:
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        if d.template == template
    ]
    _assert_same_facts(template, draft.context)


@pytest.mark.parametrize("answer", ["NO_CASE", "NOT_YOURS"])
def test_the_answer_to_an_appeal_with_no_case_of_the_sellers_says_the_same_in_hindi(
    answer: str,
) -> None:
    [draft] = compose_appeal_without_case(
        samples.appeal_without_case("RET-NC-1", AT, answer=answer), SETTINGS, seller_address=TO
    ).drafts
    _assert_same_facts(draft.template, draft.context)


def _assert_same_facts(template: str, context: dict[str, Any]) -> None:
    english = render(template, context)
    hindi = render(template, context, language="hi")
    en = f"{english.subject}\n{english.text}"
    hi = f"{hindi.subject}\n{hindi.text}"

    assert sorted(set(AMOUNT.findall(hi))) == sorted(set(AMOUNT.findall(en)))
    for moment in set(_moments(context)):
        assert (seller_time(moment) in en) == (time_hi(moment) in hi), moment
        # A date said alone (a subject's "by 28 Nov 2026"), not inside a UTC stamp.
        if india_date(moment) in UTC_STAMP.sub(" ", en):
            assert date_hi(moment) in hi, moment
    for identifier in (context.get("case_id"), context.get("return_id")):
        if identifier is not None:
            assert (identifier in en) == (identifier in hi), identifier
    assert _numbers(hi) == _numbers(en)
    assert _dates(hi) == _dates(en)


def test_the_parity_check_covers_every_seller_template_composed_from_a_case_event() -> None:
    covered = {template for param in CASES for template in [param.values[1]]}
    assert covered >= {
        "acknowledgement",
        "evidence_request",
        "evidence_reminder",
        "decision",
        "appeal_outcome",
        "escalation_update",
        "timeline_change",
        "settlement",
        "merge_acknowledgement",
        "duplicate_filing",
        "appeal_late",
        "appeal_received",
        "appeal_not_heard",
        "payment_delayed",
        "message_received",
    }


@pytest.mark.parametrize(("event", "template"), CASES)
def test_the_html_part_states_the_same_facts_as_the_text_part(
    event: CaseEventBase, template: str
) -> None:
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        if d.template == template
    ]
    english = render(template, draft.context)
    html = re.sub(r"<[^>]+>", "", english.html).replace("&#39;", "'").replace("&amp;", "&")
    assert sorted(set(AMOUNT.findall(html))) == sorted(set(AMOUNT.findall(english.text)))
    for moment in set(_moments(draft.context)):
        assert (seller_time(moment) in english.text) == (seller_time(moment) in html), moment
    # A numbered list is an <ol> in HTML: its numbers are not facts.
    assert _numbers(html) == _numbers(re.sub(r"(?m)^\d+\. ", "", english.text))


REJECTIONS = ("EVIDENCE_NOT_PROVIDED", "CLAIM_WINDOW_EXPIRED", "PREMATURE_CLAIM")


def _lessons(code: str, *, terms: bool) -> list[dict[str, Any]]:
    """The digest lessons a closure for `code` teaches, as the digest stores them (with the
    policy's numbers, or as an event from before they were recorded: none)."""
    event = _rejection(code, **({} if terms else {"claim_terms": None}))
    composition = compose_case_event(event, SETTINGS, now=AT, seller_address=TO)
    assert composition.lessons, code
    return [
        {"topic": lesson.topic, "case_id": lesson.case_id, **lesson.context}
        for lesson in composition.lessons
    ]


DIGESTS = [
    pytest.param(codes, terms, id=f"{'+'.join(codes)}:{'terms' if terms else 'no-terms'}")
    for terms in (True, False)
    for codes in [(code,) for code in REJECTIONS] + [REJECTIONS]
]


@pytest.mark.parametrize(("codes", "terms"), DIGESTS)
def test_the_hindi_digest_states_the_same_facts_as_the_english(
    codes: tuple[str, ...], terms: bool
) -> None:
    lessons = [lesson for code in codes for lesson in _lessons(code, terms=terms)]
    context = digest_context("S-1", lessons, SETTINGS)
    _assert_same_facts("policy_education", context)


# A sentence ends at a full stop (English), or a danda or full stop (Hindi), before a space or
# the end; not inside "Rs." amounts or decimals, which the tips do not hold.
EN_SENTENCE = re.compile(r"[.?!](?:\s|$)")
HI_SENTENCE = re.compile(r"[।.?!](?:\s|$)")


@pytest.mark.parametrize("terms", [True, False])
@pytest.mark.parametrize("code", REJECTIONS)
def test_a_lessons_hindi_tip_says_as_many_things_as_the_english(code: str, terms: bool) -> None:
    """A lesson is a handful of sentences, each one piece of advice or one promise ("claims
    filed in time are assessed on their merits"): the Hindi says each of them, so it has as
    many sentences as the English."""
    [lesson] = _lessons(code, terms=terms)
    english, hindi = lesson["tip"], lesson["tip_hi"]
    assert len(HI_SENTENCE.findall(hindi)) == len(EN_SENTENCE.findall(english)), (english, hindi)


# An encoded word (RFC 2047) stands apart: whitespace or the header's edge on both sides.
_ENCODED_WORD = r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?="
_GLUED_ENCODED_WORD = re.compile(rf"\S{_ENCODED_WORD}|{_ENCODED_WORD}\S")


@pytest.mark.parametrize(("event", "template"), CASES)
def test_every_subject_reaches_the_seller_as_written_in_both_languages(
    event: CaseEventBase, template: str
) -> None:
    """The subject as the SMTP channel encodes it decodes to the words rendered, spaces and
    all. A Hindi subject whose ASCII part ended in ")" before Hindi words ("… 23:55 UTC) तक
    भेजें") was written "UTC)=?utf-8?…?=": an encoded word glued to the text, which readers
    decode without the space ("UTC)तक")."""
    [draft] = [
        d
        for d in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        if d.template == template
    ]
    for language in ("en", "hi"):
        subject = render(template, draft.context, language=language).subject
        raw = subject_header(subject).encode().replace("\n", "")  # unfolded, as readers do
        assert _GLUED_ENCODED_WORD.search(raw) is None, raw
        assert str(make_header(decode_header(raw))) == subject, raw
