"""Seller mail in the seller's language: every seller template has its Hindi translation, the
Hindi decision says the right things in Devanagari with Indian amounts and dates, and
management mail stays English (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.catalogue import samples
from services.notifications.catalogue.registry import TEMPLATES, sample_context
from services.notifications.messages.composing import (
    MANAGEMENT,
    SELLER,
    compose_case_event,
    in_language,
)
from services.notifications.messages.rendering import has_translation, render
from services.notifications.messages.wording_hi import date_hi, plural, time_hi
from services.notifications.settings import NotificationsSettings

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
DEVANAGARI = range(0x0900, 0x0980)


def _devanagari_share(text: str) -> float:
    """Share of the words written in Devanagari."""
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    return sum(any(ord(c) in DEVANAGARI for c in w) for w in words) / max(1, len(words))


def test_no_seller_template_lacks_a_hindi_translation() -> None:
    sellers = [name for name, t in TEMPLATES.items() if t.audience == SELLER]
    assert len(sellers) >= 13
    missing = [name for name in sellers if not has_translation(name, "hi")]
    assert missing == []
    for name in sellers:
        rendered = render(name, sample_context(name, SETTINGS), "hi")
        # Mostly Devanagari (ids, amounts and the desk's own English explanations aside).
        assert _devanagari_share(rendered.subject + rendered.text) > 0.6, name
        assert 'lang="hi"' in rendered.html and "नमस्ते" in rendered.html, name


def test_a_hindi_decision_says_outcome_amount_liability_and_appeal_date_in_hindi() -> None:
    context = sample_context("decision", SETTINGS)
    rendered = render("decision", context, "hi")
    assert rendered.subject == (
        "[CASE-SAMPLE-1] वापसी RET-CASE-SAMPLE-1 पर आपका दावा पूरा स्वीकृत: ₹1,23,456.00"
    )
    assert "हम आपको यह राशि देंगे: ₹1,23,456.00" in rendered.text
    assert "लॉजिस्टिक्स पार्टनर इस नुकसान के लिए ज़िम्मेदार है" in rendered.text  # who bears the loss
    # The appeal-by date, India time with the same moment in UTC.
    assert "3 दिसंबर 2026, 3:00 अपराह्न IST (3 Dec 2026, 09:30 UTC) तक" in rendered.text
    assert "approved in full" not in rendered.text and "Warm regards" not in rendered.text


def test_hindi_dates_and_plurals() -> None:
    assert (
        time_hi(datetime(2026, 1, 5, 3, 4, tzinfo=UTC))
        == "5 जनवरी 2026, 8:34 पूर्वाह्न IST (5 Jan 2026, 03:04 UTC)"
    )
    assert date_hi(datetime(2026, 8, 31, 20, 0, tzinfo=UTC)) == "1 सितंबर 2026"
    assert plural(1, "मामला", "मामले") == "1 मामला" and plural(3, "मामला", "मामले") == "3 मामले"


def test_management_mail_stays_english_whatever_the_seller_reads() -> None:
    escalated = samples.case_escalated("C-1", AT)
    composition = in_language(
        compose_case_event(escalated, SETTINGS, now=AT, seller_address="s@example.com"), "hi"
    )
    languages = {(d.audience, d.language) for d in composition.drafts}
    assert languages == {(SELLER, "hi"), (MANAGEMENT, "en")}
