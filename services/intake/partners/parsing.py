"""What the partner adapters share: field paths from validation failures, bounded field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationError

# Partner-supplied strings are bounded so that nothing they send can overflow a column.
Url = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(max_length=64)]
# A partner's own event or message id; canonical `partner_event_id` holds up to 200 characters.
PartnerEventId = Annotated[str, Field(min_length=1, max_length=120)]


def validation_errors(exc: ValidationError, prefix: str = "body") -> list[dict[str, str]]:
    return [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]}
        for e in exc.errors()
    ]
