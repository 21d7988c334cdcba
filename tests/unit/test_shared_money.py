"""Rupees as every reader sees them: the seller's emails, the decision paragraph, the console."""

from __future__ import annotations

import pytest

from services.console.web import rupees as console_rupees
from services.notifications.messages import rendering
from services.reconciliation.policy import explain
from shared.money import rupees


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (0, "₹0.00"),
        (5, "₹0.05"),
        (99_900, "₹999.00"),
        (100_000, "₹1,000.00"),
        (2_500_000, "₹25,000.00"),
        (12_345_600, "₹1,23,456.00"),
        (18_000_000, "₹1,80,000.00"),
        (123_456_789, "₹12,34,567.89"),
        (12_345_678_901, "₹12,34,56,789.01"),
        (-5, "-₹0.05"),
        (-1_234_567_89, "-₹12,34,567.89"),
    ],
)
def test_amounts_use_the_indian_grouping(paise: int, text: str) -> None:
    assert rupees(paise) == text


def test_every_reader_gets_the_same_grouping() -> None:
    """The decision paragraph, the email templates' `inr` filter and the console share one
    formatter; the console only writes a typographic minus and a dash for no amount."""
    assert explain.rupees is rupees
    assert rendering._env.from_string("{{ 12345600 | inr }}").render() == "₹1,23,456.00"
    assert console_rupees(-1_234_567_89) == "−₹12,34,567.89"
    assert console_rupees(None) == "—"
