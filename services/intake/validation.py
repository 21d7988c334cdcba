"""What intake's partner adapters accept in partner formats: no NUL, instants in a wide range.

Partner payloads keep this tolerance (epoch milliseconds, local offsets, any year a scanner's
clock might plausibly report) because they are parsed by adapters, not typed by us; HTTP request
models of every service use `shared.validation` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from shared.validation import offset_a_place_keeps

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not accepted")
    return value


def plausible_instant(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    # Refused here, naming the field, rather than by PostgreSQL (past ±15:59) for the whole
    # statement: the same bound every request body holds (`shared.validation`).
    return offset_a_place_keeps(value)


Instant = Annotated[AwareDatetime, AfterValidator(plausible_instant)]
