"""What the partner adapters share: field paths from validation failures, bounded field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from services.intake.validation import no_nul
from shared.validation import EvidenceUrl

_EVIDENCE_URL: TypeAdapter[object] = TypeAdapter(EvidenceUrl)


def web_link(value: str) -> str:
    """A scan's photo link, held to the rule of a seller's evidence link: the desk opens both
    on the case. `javascript:…`, `http://…`, `https://user:pw@…` or `https://10.0.0.5/…` from a
    partner's scanner is refused naming the field, as any value outside its format is
    (partners.md: schema violations answer 422 with the field's path); the partners' own
    formats document https links (`https://cdn.swiftship.example/qc/…`)."""
    try:
        return str(_EVIDENCE_URL.validate_python(value))
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "url_scheme":  # pydantic's words would invite http
            raise ValueError("must be an https URL") from None
        raise ValueError(error["msg"].removeprefix("Value error, ")) from None


# Partner-supplied strings are bounded so that nothing they send can overflow a column, and
# free of NUL characters, which PostgreSQL text and JSONB refuse.
Url = Annotated[
    str, Field(min_length=1, max_length=2000), AfterValidator(no_nul), AfterValidator(web_link)
]
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
