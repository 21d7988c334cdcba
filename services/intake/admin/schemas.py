"""HTTP shapes of intake administration."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from shared.events import Id, ShipmentEventType
from shared.paging import PageOf
from shared.validation import Instant, RequestModel, SentPaise, Text, plain_token

# A secret of the swiftship scheme (Standard Webhooks: `whsec_` and base64 of 16 bytes or
# more), so that the documents' examples are bodies the routes accept.
_SECRET_EXAMPLES = [
    "whsec_" + "ZXhhbXBsZS1zZWNyZXQtMDEtb2YtMzIt",
    "whsec_" + "ZXhhbXBsZS1zZWNyZXQtMDItb2YtMzIt",
]


class PartnerIn(RequestModel):
    partner_id: Id = Field(examples=["fastlane"])
    display_name: Text = Field(min_length=1, max_length=200, examples=["FastLane Logistics"])
    scheme: str = Field(
        min_length=1,
        max_length=40,
        description="swiftship | rapidroute | desipost",
        examples=["swiftship"],
    )
    liability_cap: SentPaise = Field(description="Per shipment, in paise.")
    rate_limit_per_s: int = Field(default=50, ge=1, le=10_000)
    secret: str = Field(
        min_length=16,
        max_length=500,
        description="Shown once; never returned. Its form is the scheme's "
        "(swiftship: `whsec_` and base64 of at least 16 bytes; others: 16 characters or more).",
        examples=_SECRET_EXAMPLES[:1],
    )


class SecretOut(BaseModel):
    id: int
    created_at: datetime
    not_after: datetime | None
    active: bool


class PartnerOut(BaseModel):
    partner_id: str
    display_name: str
    scheme: str
    liability_cap: int
    rate_limit_per_s: int
    active: bool
    secrets: list[SecretOut]


class PartnerList(PageOf):
    """A page of the partner registry, by partner id (docs/api.md, "Paging")."""

    items: list[PartnerOut]


class SecretRotation(RequestModel):
    secret: str = Field(
        min_length=16,
        max_length=500,
        description="The new secret, active now, in the partner's scheme's form.",
        examples=_SECRET_EXAMPLES[1:],
    )
    previous_not_after: Instant = Field(
        description="Until when the secrets active so far stay valid (a past time revokes them "
        "now)."
    )


class StatusMappingIn(RequestModel):
    # An identifier matched byte for byte against scans, which refuse invisible characters
    # in a status (services/intake/partners/parsing.py): a mapping holding one would match none.
    status: Annotated[str, AfterValidator(plain_token)] = Field(
        min_length=1,
        max_length=100,
        description="The partner's status string.",
        examples=["RTO-HUB-HOLD"],
    )
    event_type: ShipmentEventType


class StatusMappingOut(BaseModel):
    partner_id: str
    status: str
    event_type: ShipmentEventType
    created_by: str
    created_at: datetime


class StatusMappingList(PageOf):
    """A page of a partner's status mappings, by status (docs/api.md, "Paging")."""

    items: list[StatusMappingOut]


class UnmappedStatusOut(BaseModel):
    partner_id: str
    status: str
    scans: int = Field(description="Distinct partner events with this status not yet emitted.")
    first_seen: datetime
    last_seen: datetime
    mapped_now: bool = Field(description="A mapping exists now: a replay will emit these.")
    raw_refs: list[str] = Field(description="Some archived requests carrying this status.")


class UnmappedStatusList(PageOf):
    """A page of unmapped statuses, by partner and status (docs/api.md, "Paging")."""

    items: list[UnmappedStatusOut]


class ReplayIn(RequestModel):
    partner_id: Id | None = None


class ReplayOut(BaseModel):
    requests_replayed: int
    events_emitted: int
    scans_resolved: int


class RawRequestOut(BaseModel):
    id: str
    partner_id: str
    received_at: datetime
    headers: dict[str, str]
    body: str = Field(description="The exact body: UTF-8 text, or base64 if it was not UTF-8.")
    body_encoding: str = Field(description="utf-8 | base64")
    verdict: str
    events_emitted: int
    detail: dict[str, Any] | None
