"""The Hindi decision email gives the SOP's reason in Hindi, for every rule that decides or
closes a claim: the paragraph reconciliation records (English) is the source of the facts, and
the Hindi email states the same amounts, dates and counts without quoting it in English."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.catalogue import samples
from services.notifications.messages.composing import compose_case_event
from services.notifications.messages.rendering import render
from services.notifications.settings import NotificationsSettings
from services.reconciliation.policy.explain import explain
from services.reconciliation.policy.rules import evaluate_claim
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import CaseOrigin, Outcome
from tests.support.sop_records import (
    AT,
    DELIVERED,
    NOT_DELIVERED,
    PICKUP,
    SCENARIOS,
    sop_facts,
    sop_record,
)
from tests.unit.test_notifications_hindi_parity import AMOUNT, _numbers

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])


def _event(rule: str, *, proactive: bool = False) -> object:
    record = sop_record(rule, proactive=proactive)
    build = samples.case_decided if record.outcome is not None else samples.case_rejected
    event = build("C-HI", AT).model_copy(
        update={"decision": record, "appeal_by": AT + timedelta(days=7)}
    )
    if proactive:
        event = event.model_copy(update={"origin": CaseOrigin.PROACTIVE, "claimed_amount": None})
    return event


def _counts(text: str) -> list[str]:
    """The counts a text states (days, grams, percentages, days of the month); years aside,
    since the parity helper strips a date's year where its English form matches a UTC stamp."""
    return [n for n in _numbers(text) if not re.fullmatch(r"20\d\d", n)]


def _rendered(event: object) -> tuple[str, str, str]:
    drafts = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com").drafts  # type: ignore[arg-type]
    [draft] = [d for d in drafts if d.template == "decision"]
    english = render("decision", draft.context)
    hindi = render("decision", draft.context, language="hi")
    return english.text, hindi.text, draft.context["explanation"]


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_the_hindi_decision_gives_the_reason_in_hindi_with_the_same_facts(rule: str) -> None:
    english, hindi, explanation = _rendered(_event(rule))
    assert explanation in english
    # No sentence of the English paragraph is quoted: no run of four English words.
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [a-z]+ [a-z]+", hindi), hindi
    assert sorted(set(AMOUNT.findall(hindi))) == sorted(set(AMOUNT.findall(english)))
    assert _counts(hindi) == _counts(english), (hindi, english)


@pytest.mark.parametrize("rule", ["L1", "L2", "L7"])
def test_a_proactive_decision_in_hindi_speaks_of_no_claim(rule: str) -> None:
    english, hindi, _ = _rendered(_event(rule, proactive=True))
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [a-z]+ [a-z]+", hindi), hindi
    assert "आपका दावा" not in hindi and "आपने दावा" not in hindi
    assert _counts(hindi) == _counts(english)


def test_a_desk_members_own_words_are_still_quoted_as_written() -> None:
    record = samples.decision_record(
        AT, rule_id="MANUAL", decided_by="ops.meera", explanation="Photos show tape cut open."
    )
    event = samples.case_decided("C-HI", AT).model_copy(update={"decision": record})
    _, hindi, _ = _rendered(event)
    assert "Photos show tape cut open." in hindi
    assert Outcome.GRANTED  # the outcome itself is still given in Hindi (template)


def test_the_hindi_e3b_gives_the_same_minute_from_which_to_file_again() -> None:
    """The 10 days after a pickup at 18:29:30 UTC end at 23:59:30 in India: both languages give
    the first whole minute after it (12:00 AM the next day), from which a new filing is in time,
    not 11:59 PM, 30 seconds too early."""
    pickup = datetime(2026, 11, 1, 18, 29, 30, tzinfo=UTC)
    f = sop_facts(**NOT_DELIVERED, pickup_at=pickup, filed_at=pickup + timedelta(days=3))
    verdict = evaluate_claim(f, SOP_V1)
    assert verdict.rule_id == "E3b"
    record = sop_record("E3b").model_copy(
        update={
            "facts": f.as_record(),
            "explanation": explain(verdict, f, SOP_V1, return_id="RET-C-HI"),
        }
    )
    event = samples.case_rejected("C-HI", AT).model_copy(
        update={"decision": record, "appeal_by": AT + timedelta(days=7)}
    )
    english, hindi, _ = _rendered(event)
    assert "from 12 Nov 2026, 12:00 AM IST (11 Nov 2026, 18:30 UTC)" in english, english
    assert "12 नवंबर 2026, 12:00 पूर्वाह्न IST (11 Nov 2026, 18:30 UTC) से" in hindi, hindi
    assert "11:59" not in english + hindi


@pytest.mark.parametrize(
    ("rule", "over", "filed", "ended"),
    [
        ("E3", {"filed_at": DELIVERED + timedelta(days=7, seconds=20)}, "01:30:20", "01:30:00"),
        (
            "E3c",
            {**NOT_DELIVERED, "filed_at": PICKUP + timedelta(days=45, seconds=20)},
            "01:30:20",
            "01:30:00",
        ),
    ],
)
def test_the_hindi_window_closure_gives_seconds_where_the_english_does(
    rule: str, over: dict[str, object], filed: str, ended: str
) -> None:
    """Filed 20 seconds after the window: both languages state both moments to the second."""
    f = sop_facts(**over)
    verdict = evaluate_claim(f, SOP_V1)
    assert verdict.rule_id == rule
    record = sop_record(rule).model_copy(
        update={
            "facts": f.as_record(),
            "explanation": explain(verdict, f, SOP_V1, return_id="RET-C-HI"),
        }
    )
    event = samples.case_rejected("C-HI", AT).model_copy(
        update={"decision": record, "appeal_by": AT + timedelta(days=7)}
    )
    english, hindi, _ = _rendered(event)
    for text in (english, hindi):
        assert f"1:30:{filed[-2:]} " in text and f"1:30:{ended[-2:]} " in text, text
    assert _counts(hindi) == _counts(english), (hindi, english)
