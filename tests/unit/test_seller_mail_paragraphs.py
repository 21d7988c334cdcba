"""Every email's paragraphs stand apart in its text part (and so in its HTML part, which is built
from the text's paragraphs). The templates run with trim_blocks, so a line ending in a block tag
loses its newline: that once ran "Why:" into the payment line of every paid decision and appeal
outcome, "In detail:" into the "Why:" of every rejection, and two sentences of the management
escalation and the partner statement into one word ("page.A")."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.notifications.catalogue import samples
from services.notifications.catalogue.registry import TEMPLATES, sample_context
from services.notifications.messages.composing import SELLER, compose_case_event
from services.notifications.messages.rendering import has_translation, render
from services.notifications.settings import NotificationsSettings
from shared.events import CaseEventBase, SettlementWait

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = samples.SAMPLE_TIME
# Labels that open a paragraph in a seller's email (management alerts list "Why:" among fields).
LABELS = ("Why:", "In detail:", "If you disagree:", "कारण:", "विस्तार से", "अगर आप असहमत हैं:")
RUN_TOGETHER = re.compile(r"[a-z)][.!?][A-Z]")


def _languages(name: str) -> list[str]:
    return ["en", "hi"] if has_translation(name, "hi") else ["en"]


def _decision_text(event: CaseEventBase, language: str) -> str:
    composition = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com")
    [draft] = [d for d in composition.drafts if d.template == "decision"]
    return render("decision", draft.context, language).text


def _texts() -> list[tuple[str, str, str]]:
    """(what, language, text) for every template's sample, a rejection and a held payment."""
    out = []
    for name in TEMPLATES:
        for language in _languages(name):
            out.append(
                (name, language, render(name, sample_context(name, SETTINGS), language).text)
            )
    waits = [SettlementWait(team="finance", expected_by=AT + timedelta(days=2))]
    held = samples.case_decided("C-HELD", AT, settlement_waits=waits)
    rejected = samples.case_rejected("C-R", AT)
    for language in ("en", "hi"):
        out.append(("rejection", language, _decision_text(rejected, language)))
        out.append(("held payment", language, _decision_text(held, language)))
    for name, event in (
        ("appeal_outcome", samples.appeal_decided("C-HELD", AT, settlement_waits=waits)),
        ("duplicate_filing", samples.duplicate_filing("C-HELD", AT, settlement_waits=waits)),
    ):
        composition = compose_case_event(event, SETTINGS, now=AT, seller_address="s@example.com")
        [draft] = [d for d in composition.drafts if d.template == name]
        for language in ("en", "hi"):
            text = render(name, draft.context, language).text
            out.append((f"{name}, payment held", language, text))
    return out


TEXTS = _texts()


@pytest.mark.parametrize(
    ("what", "language", "text"), TEXTS, ids=[f"{w}-{lang}" for w, lang, _ in TEXTS]
)
def test_paragraphs_stand_apart(what: str, language: str, text: str) -> None:
    assert "\n\n\n" not in text, f"{what} ({language}): two blank lines"
    assert not RUN_TOGETHER.search(text), f"{what} ({language}): {RUN_TOGETHER.search(text)}"
    if what in TEMPLATES and TEMPLATES[what].audience != SELLER:
        return
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if i and line.startswith(LABELS):
            assert lines[i - 1].strip() == "", f"{what} ({language}): {lines[i - 1]!r} / {line!r}"


def test_a_rejection_gives_its_detail_a_paragraph_of_its_own() -> None:
    for language, label in (("en", "In detail:"), ("hi", "विस्तार से")):
        text = _decision_text(samples.case_rejected("C-PARA", AT), language)
        assert f"\n\n{label}" in text, text
