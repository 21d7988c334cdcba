"""What the partner adapters share: field paths from validation failures, bounded field types."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from services.intake.partners.adapter import PayloadInvalid
from services.intake.validation import no_nul
from shared.events import Id
from shared.validation import (
    EvidenceUrl,
    no_format_characters,
    no_invisible_in_identifier,
    no_invisible_in_text,
    one_spelling,
)
from shared.weights import WeightUnit, WeightUnreadable, grams

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


def _partner_id(value: object) -> object:
    """A partner's identifier, trimmed at both ends: fixed-width partner systems pad their
    fields, and `"AWB1 "` names the shipment `"AWB1"` does, so the padded copy of a scan is the
    same scan, not a second one. So is one spelled in other code points for the same
    characters (`one_spelling`). An id of whitespace alone names nothing and is refused naming
    its field (partners.md: schema violations answer 422 with the field's path)."""
    if not isinstance(value, str):
        return value  # the str schema names the wrong type
    trimmed = one_spelling(value).strip()
    if not trimmed:
        raise PydanticCustomError("blank_id", "must name something, not only whitespace")
    return trimmed


# Partner-supplied strings are bounded so that nothing they send can overflow a column, free of
# NUL characters, which PostgreSQL text and JSONB refuse, and of the format characters that make
# text display otherwise than it is stored (U+202E and the like, `shared.validation`): a hub, an
# agent or a QC reason is shown to the desk and quoted in reports. Free text (a city, a QC reason)
# also refuses the invisible characters the desk's own free text refuses (U+2060–U+2064, U+FEFF).
Url = Annotated[
    str, Field(min_length=1, max_length=2000), AfterValidator(no_nul), AfterValidator(web_link)
]
ShortText = Annotated[
    str,
    Field(max_length=64),
    AfterValidator(no_nul),
    AfterValidator(no_format_characters),
    AfterValidator(no_invisible_in_text),
]
# Status strings are matched byte for byte against the partner's table (partners.md), so they
# are never trimmed: `"DELIVERED "` is a status of its own, held as unmapped for an admin.
Status = Annotated[
    str,
    Field(min_length=1, max_length=100),
    AfterValidator(no_nul),
    AfterValidator(no_invisible_in_identifier),
]
Reason = Annotated[
    str,
    Field(max_length=500),
    AfterValidator(no_nul),
    AfterValidator(no_format_characters),
    AfterValidator(no_invisible_in_text),
]
# Identifiers a partner assigns (its event or message id, a hub, an agent), trimmed and never
# blank. A shipment's `awb` and our `return_id` (`PartnerRef`) keep the id pattern of the event
# contracts, after the same trimming. They are identifiers, so no invisible character either
# (a zero-width space, a joiner, a C1 control): `"HUB\u200b1"` shows as `"HUB1"` on the desk yet
# is another hub to fraud's peer statistics, and another event id to the dedupe.
PartnerEventId = Annotated[
    str,
    BeforeValidator(_partner_id),
    Field(min_length=1, max_length=120),
    AfterValidator(no_nul),
    AfterValidator(no_invisible_in_identifier),
]
PartnerCode = Annotated[
    str,
    BeforeValidator(_partner_id),
    Field(max_length=64),
    AfterValidator(no_nul),
    AfterValidator(no_invisible_in_identifier),
]
PartnerRef = Annotated[Id, BeforeValidator(_partner_id)]


def validation_errors(exc: ValidationError, prefix: str = "body") -> list[dict[str, str]]:
    return [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]}
        for e in exc.errors()
    ]


def scan_grams(amount: Decimal | int | str | None, unit: WeightUnit, field: str) -> int | None:
    """A scan's weight in whole grams by the one reading every partner gets (`shared.weights`),
    or None when the scan carries none. `amount` is the value the model validated, or the
    field's text that `exact_numbers` read again when that value lay `on_a_rounding_line`."""
    if amount is None:
        return None
    try:
        return grams(amount, unit)
    except WeightUnreadable as exc:
        raise PayloadInvalid([{"field": field, "message": str(exc)}]) from exc
