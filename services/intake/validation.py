"""What intake's partner adapters accept in partner formats: no NUL, instants in a wide range.

Partner payloads keep this tolerance (epoch milliseconds, local offsets, any year a scanner's
clock might plausibly report) because they are parsed by adapters, not typed by us; HTTP request
models of every service use `shared.validation` instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not accepted")
    return value


# The widest offsets any place keeps (UTC-12:00 to UTC+14:00). Python takes up to ±23:59 and
# PostgreSQL refuses past ±15:59, so an offset beyond these is refused here, naming the field,
# rather than by the database for the whole statement.
LATEST_OFFSET = timedelta(hours=14)


def plausible_instant(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    offset = value.utcoffset()
    if offset is not None and abs(offset) > LATEST_OFFSET:
        raise ValueError("the UTC offset must be within ±14:00")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(plausible_instant)]
