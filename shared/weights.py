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
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator

# 1000 kg: the bound of the event contracts' `Grams`; a parcel past it is a unit mistake.
MAX_GRAMS = 1_000_000
# A weight's text longer than this is no scale's reading (and bounds the work of reading it).
MAX_WEIGHT_TEXT = 64
# Digits past the 32nd are cut, toward zero: a half-gram line has at most 8 significant digits
# under 1000 kg, so cutting cannot carry a weight across one, and every later step is exact in
# a context of more digits than that.
_SIGNIFICANT = Context(prec=32, rounding=ROUND_DOWN)
_EXACT = Context(prec=40, rounding=ROUND_HALF_UP)
_HALF = Decimal("0.5")
_OVER = f"over {MAX_GRAMS // 1000} kg: no parcel weighs that much"


class WeightUnit(StrEnum):
    KILOGRAM = "kg"
    GRAM = "g"


_GRAMS_PER_UNIT_EXPONENT = {WeightUnit.KILOGRAM: 3, WeightUnit.GRAM: 0}
_GRAMS_PER_UNIT = {WeightUnit.KILOGRAM: 1000, WeightUnit.GRAM: 1}
# ASCII digits only (`\d` matches every script's, which Decimal reads as if ASCII), an optional
# fraction and exponent: the JSON number grammar (a negative one is refused below, by name).
_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$")
_WITH_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(kg|g)\s*$", re.IGNORECASE)


class WeightUnreadable(ValueError):
    """What cannot be a weight; its message says why (read to the sender, naming the field)."""


def grams(amount: Decimal | int | str, unit: WeightUnit) -> int:
    """`amount` of `unit` in whole grams, rounded half up: `grams("0.4495", KILOGRAM)` is 450.

    A `str` is the number's decimal text (a JSON number's, or a partner's string); a `Decimal`
    must come from such text, never from a float."""
    if isinstance(amount, bool | float):
        raise WeightUnreadable("a weight is read from its decimal text, never from a float")
    shift = _GRAMS_PER_UNIT_EXPONENT[unit]
    if isinstance(amount, int):
        whole = amount * _GRAMS_PER_UNIT[unit] if abs(amount) <= MAX_GRAMS else None
        if whole is not None and 0 <= whole <= MAX_GRAMS:
            return whole  # the usual scan (rapidroute's grams): nothing to round
        amount = Decimal(amount)
    elif isinstance(amount, str):
        text = amount.strip()
        if len(text) > MAX_WEIGHT_TEXT or not _NUMBER.match(text):
            raise WeightUnreadable("must be a decimal number")
        amount = Decimal(text)
    if not amount.is_finite():
        raise WeightUnreadable("must be a finite number")
    if amount.is_zero():
        return 0
    if amount.is_signed():
        raise WeightUnreadable("a weight cannot be negative")
    # Magnitudes first, from the exponent alone: 1e999999 is refused and 1e-999999 is 0 g
    # without scaling either (which could overflow the decimal context).
    if amount.adjusted() + shift > 6:
        raise WeightUnreadable(_OVER)
    if amount.adjusted() + shift < -1:  # under a tenth of a gram
        return 0
    if amount > Decimal(MAX_GRAMS).scaleb(-shift):  # compared exactly, before a digit is cut
        raise WeightUnreadable(_OVER)
    exact = _SIGNIFICANT.plus(amount).scaleb(shift, context=_EXACT)
    return int(exact.quantize(Decimal(1), context=_EXACT))


def grams_from_text(value: str) -> int:
    """A weight written with its unit, `"0.45 kg"` or `"450 g"`, in whole grams."""
    match = _WITH_UNIT.match(value) if len(value) <= MAX_WEIGHT_TEXT else None
    if not match:
        raise WeightUnreadable('expected a weight like "0.45 kg" or "450 g"')
    return grams(match.group(1), WeightUnit(match.group(2).lower()))


def _amount(unit: WeightUnit) -> Any:
    def read(value: Any) -> int | Decimal:
        if isinstance(value, bool):
            raise WeightUnreadable("must be a number, not true or false")
        if isinstance(value, float):
            # Pydantic has parsed the JSON number through a binary float. Its shortest repr is
            # the number's own text when that has at most 15 significant digits, and rounds as
            # the text does unless it sits on a half gram (`on_a_rounding_line`).
            if not math.isfinite(value):
                raise WeightUnreadable("must be a finite number")
            value = repr(value)
        if isinstance(value, int):
            grams(value, unit)  # refused here, naming the field, if it cannot be a weight
            return value  # exact as it is
        if isinstance(value, str | Decimal):
            grams(value, unit)
            return Decimal(value.strip() if isinstance(value, str) else value)
        raise WeightUnreadable("must be a number (or its decimal text)")

    return read


# A partner's weight field, a JSON number or its decimal text (`"0.4495"`), checked as a weight:
# negative, not finite, not a number or over 1000 kg is refused naming the field. The adapter
# reads it into grams with `grams`, from the body's text (`exact_numbers`) when the value read
# lies `on_a_rounding_line`.
KilogramsReading = Annotated[int | Decimal, BeforeValidator(_amount(WeightUnit.KILOGRAM))]
GramsReading = Annotated[int | Decimal, BeforeValidator(_amount(WeightUnit.GRAM))]


def on_a_rounding_line(amount: Decimal | int, unit: WeightUnit) -> bool:
    """Whether a weight pydantic read through a binary float may round otherwise from its text.

    The float's shortest repr (what `KilogramsReading` holds) and the text it came from both
    round to the same float; a half-gram line (or the 1000 kg bound) has at most 8 significant
    digits, so if one lay between them it would itself be that shortest repr. So only a value
    exactly on such a line (`0.4495` kg read from `0.44949999999999999999`) needs its text.

    So does minus zero: a negative number too small for a float (`-1e-400`) is read as -0.0,
    which would pass as 0 g (no reading); its text says it is negative, and `grams` refuses
    it. The text `-0` or `-0.0` itself is zero, read as 0 g as `0` is."""
    if isinstance(amount, int):  # a JSON integer, read exactly
        return False
    if amount.is_zero():
        return amount.is_signed()
    in_grams = amount.scaleb(_GRAMS_PER_UNIT_EXPONENT[unit], context=_EXACT)
    return in_grams == MAX_GRAMS or in_grams % 1 == _HALF


def exact_numbers(body: bytes) -> Any:
    """The JSON body read again with every number as the `Decimal` of its text: for a weight
    `on_a_rounding_line`. Called only on a body pydantic has accepted."""
    return json.loads(body, parse_float=Decimal, parse_int=Decimal)
