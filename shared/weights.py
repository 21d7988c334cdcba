"""One reading of a weight with its unit into whole grams, whichever partner or person sent it.

SOP L6 decides money at the gram (`pickup − max(50 g, 10 % of pickup)`): 449 g after a 500 g
pickup is a weight drop the partner pays, 450 g is not. So a weight is read from its decimal
text exactly, never through a binary float (1.0005 as a float is 1.000499999…; and a float's
`round` goes half to even, so 0.4505 kg became 450 g from one partner and 451 g from another),
and rounded once, half up to the gram, as a scale's display reads: 0.4495 kg and 449.5 g are
450 g from every partner. The rule and its reasons: docs/partners.md ("Weights").
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator

# 1000 kg: the bound of the event contracts' `Grams`; a parcel past it is a unit mistake.
MAX_GRAMS = 1_000_000
# No scale reads a weight to more digits than these; the bounds also keep the work of reading
# one small, and every step exact in a context of more digits than a weight may have.
MAX_DIGITS = 32
MAX_WEIGHT_TEXT = 64
_EXACT = Context(prec=MAX_DIGITS + 8, rounding=ROUND_HALF_UP)
_OVER = f"over {MAX_GRAMS // 1000} kg: no parcel weighs that much"


class WeightUnit(StrEnum):
    KILOGRAM = "kg"
    GRAM = "g"


_GRAMS_PER_UNIT_EXPONENT = {WeightUnit.KILOGRAM: 3, WeightUnit.GRAM: 0}
# ASCII digits only (`\d` matches every script's, which Decimal reads as if ASCII), an optional
# fraction and exponent: the JSON number grammar (a negative one is refused below, by name).
_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$")
_WITH_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(kg|g)\s*$", re.IGNORECASE)
# 16 digits in a row, a decimal point allowed among them: a number that a binary float may not
# hold exactly (every decimal of 15 significant digits survives the round trip).
_LONG_NUMBER = re.compile(rb"(?:[0-9]\.?){16}")


class WeightUnreadable(ValueError):
    """What cannot be a weight; its message says why (read to the sender, naming the field)."""


def grams(amount: Decimal | int | str, unit: WeightUnit) -> int:
    """`amount` of `unit` in whole grams, rounded half up: `grams("0.4495", KILOGRAM)` is 450.

    A `str` is the number's decimal text (a JSON number's, or a partner's string); a `Decimal`
    must come from such text, never from a float."""
    if isinstance(amount, bool | float):
        raise WeightUnreadable("a weight is read from its decimal text, never from a float")
    if isinstance(amount, str):
        text = amount.strip()
        if len(text) > MAX_WEIGHT_TEXT or not _NUMBER.match(text):
            raise WeightUnreadable("must be a decimal number")
        amount = Decimal(text)
    elif isinstance(amount, int):
        amount = Decimal(amount)
    if not amount.is_finite():
        raise WeightUnreadable("must be a finite number")
    if amount.is_zero():
        return 0
    if amount.is_signed():
        raise WeightUnreadable("a weight cannot be negative")
    shift = _GRAMS_PER_UNIT_EXPONENT[unit]
    # Magnitudes first, from the exponent alone: 1e999999 is refused and 1e-999999 is 0 g
    # without scaling either (which could overflow the decimal context).
    if amount.adjusted() + shift > 6:
        raise WeightUnreadable(_OVER)
    if amount.adjusted() + shift < -1:  # under a tenth of a gram
        return 0
    if len(amount.as_tuple().digits) > MAX_DIGITS:
        raise WeightUnreadable(f"more than {MAX_DIGITS} digits: no scale reads a weight so finely")
    exact = amount.scaleb(shift, context=_EXACT)
    if exact > MAX_GRAMS:
        raise WeightUnreadable(_OVER)
    return int(exact.quantize(Decimal(1), context=_EXACT))


def grams_from_text(value: str) -> int:
    """A weight written with its unit, `"0.45 kg"` or `"450 g"`, in whole grams."""
    match = _WITH_UNIT.match(value) if len(value) <= MAX_WEIGHT_TEXT else None
    if not match:
        raise WeightUnreadable('expected a weight like "0.45 kg" or "450 g"')
    return grams(match.group(1), WeightUnit(match.group(2).lower()))


def _amount(unit: WeightUnit) -> Any:
    def read(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise WeightUnreadable("must be a number, not true or false")
        if isinstance(value, float):
            # Pydantic has parsed the JSON number through a binary float. Its shortest repr is
            # the number's own text when that has at most 15 significant digits; a longer one
            # is read again from the body (`exact_numbers`).
            if not math.isfinite(value):
                raise WeightUnreadable("must be a finite number")
            value = repr(value)
        if isinstance(value, str | int | Decimal):
            grams(value, unit)  # refused here, naming the field, if it cannot be a weight
            return Decimal(value.strip() if isinstance(value, str) else value)
        raise WeightUnreadable("must be a number (or its decimal text)")

    return read


# A partner's weight field, a JSON number or its decimal text (`"0.4495"`), checked as a weight:
# negative, not finite, not a number or over 1000 kg is refused naming the field. The adapter
# reads it into grams with `grams`, from the body's exact text when `exact_numbers` says so.
KilogramsReading = Annotated[Decimal, BeforeValidator(_amount(WeightUnit.KILOGRAM))]
GramsReading = Annotated[Decimal, BeforeValidator(_amount(WeightUnit.GRAM))]


def exact_numbers(body: bytes) -> Any:
    """The JSON body read again with each fractional number as the `Decimal` of its text, or
    None when no number in it has more than 15 digits: pydantic reads numbers through a binary
    float, which holds every decimal of up to 15 significant digits exactly, so the common body
    is parsed once. Called only on a body pydantic has accepted."""
    if not _LONG_NUMBER.search(body):
        return None
    return json.loads(body, parse_float=Decimal, parse_int=Decimal)
