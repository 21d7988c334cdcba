"""What the partner adapters share: field paths from validation failures, bounded field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError

from services.intake.validation import no_nul

# Partner-supplied strings are bounded so that nothing they send can overflow a column, and
# free of NUL characters, which PostgreSQL text and JSONB refuse.
Url = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(no_nul)]
ShortText = Annotated[str, Field(max_length=64), AfterValidator(no_nul)]
Status = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(no_nul)]
Reason = Annotated[str, Field(max_length=500), AfterValidator(no_nul)]
# A partner's own event or message id; canonical `partner_event_id` holds up to 200 characters.
PartnerEventId = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(no_nul)]


def validation_errors(exc: ValidationError, prefix: str = "body") -> list[dict[str, str]]:
    return [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]}
        for e in exc.errors()
    ]
