"""A ruling's amount belongs to a PARTIAL ruling only: beside UPHELD or REVERSED it was once
dropped without a word (REVERSED with an amount took the whole debit off), so it is refused,
naming the field; UPHELD with 0 says what UPHELD says and is accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.reconciliation.disputes.schemas import RulingIn


def test_upheld_with_nothing_off_is_upheld() -> None:
    ruling = RulingIn.model_validate({"outcome": "UPHELD", "reversed_amount": 0, "reason": "Ok."})
    assert (ruling.outcome, ruling.reversed_amount) == ("UPHELD", None)


@pytest.mark.parametrize(
    ("outcome", "amount"), [("UPHELD", 30_000), ("REVERSED", 30_000), ("REVERSED", 0)]
)
def test_an_amount_beside_a_whole_outcome_is_refused(outcome: str, amount: int) -> None:
    with pytest.raises(ValidationError) as refused:
        RulingIn.model_validate({"outcome": outcome, "reversed_amount": amount, "reason": "Hm."})
    assert [e["loc"] for e in refused.value.errors()] == [("reversed_amount",)]


def test_a_partial_ruling_keeps_its_amount() -> None:
    ruling = RulingIn.model_validate(
        {"outcome": "PARTIAL", "reversed_amount": 30_000, "reason": "Shared."}
    )
    assert ruling.reversed_amount == 30_000
