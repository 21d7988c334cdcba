"""HTTP shapes of the seller directory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.validation import EmailAddress, RequestModel, Text

Phone = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{7,14}$",
        description="E.164, e.g. +919876543210.",
        examples=["+919876543210"],
    ),
]
Language = Literal["en", "hi"]


class NotificationPreferences(RequestModel):
    """What the seller wants beyond the emails the desk owes it (those always go)."""

    education_digest: bool = Field(
        default=True, description="Daily lessons after avoidable rejections."
    )
    feedback_outreach: bool = Field(
        default=True, description="A senior person writes after a low rating."
    )
    call_summaries: bool = Field(
        default=False, description="Calls logged on a case appear in the next email's summary."
    )


class SellerProfileIn(RequestModel):
    """The whole profile: a PUT replaces it. The first address is where the desk writes."""

    emails: list[EmailAddress] = Field(min_length=1, max_length=5)
    # RequestModel checks every string of the body (control characters refused).
    display_name: Text | None = Field(default=None, max_length=200)
    language: Language = "en"
    phone: Phone | None = None
    preferences: NotificationPreferences = Field(default_factory=NotificationPreferences)


class SellerProfileChangeOut(BaseModel):
    version: int
    changed_by: str
    changed_at: datetime
    changed_fields: list[str] = Field(description="Names only: the values stay in the profile.")


class SellerProfileOut(BaseModel):
    seller_id: str
    version: int
    emails: list[str] = Field(description="In full for the marketplace, masked for the desk.")
    failing_emails: list[str] = Field(
        default_factory=list,
        description="Addresses a delivery report of our mail marked as failing (masked for the "
        "desk). The desk writes to the first address not failing.",
    )
    display_name: str | None
    language: str
    phone: str | None
    preferences: dict[str, bool]
    updated_by: str
    updated_at: datetime
    history: list[SellerProfileChangeOut] = Field(description="Newest first.")
    released_messages: int = Field(
        default=0,
        description="On a PUT: held messages (the seller could not be told) still true, now on "
        "their way; those the case or the clock overtook are not sent and not counted.",
    )
