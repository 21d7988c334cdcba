"""Input rules every intake request model shares, beyond what the types say.

PostgreSQL refuses NUL characters in text and JSONB, and instants outside a plausible range break
timezone conversion; both would otherwise surface as 500s instead of naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# ₹100 billion: above any claim, refund or cap, and well inside a BIGINT.
MAX_PAISE = 10**13
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not accepted")
    return value


def plausible_instant(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


SafeText = Annotated[str, AfterValidator(no_nul)]
Instant = Annotated[AwareDatetime, AfterValidator(plausible_instant)]
Amount = Annotated[int, Field(ge=0, le=MAX_PAISE, description="Integer paise.")]
# Where the desk writes to the seller. Non-ASCII is allowed (RFC 6531 addresses travel over
# SMTPUTF8); whitespace and control characters are not: no mail server takes them, and a
# message that can never be sent should be refused here, naming the field.
EmailAddress = Annotated[
    str,
    Field(
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
        examples=["seller@example.com"],
    ),
]


class RequestModel(BaseModel):
    """Base of intake's HTTP request bodies: unknown fields refused, no NUL in any string."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_anywhere(cls, value: Any) -> Any:
        if isinstance(value, str):
            no_nul(value)
        return value
