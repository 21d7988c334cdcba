"""Request bodies of the policy API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from shared.validation import Instant, OptionalText, RequestModel, Text


class DraftIn(RequestModel):
    version: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9.\-]*$",
        description="Name of the new version, e.g. `sop-v1.1-draft`.",
        examples=["sop-v1.1-draft"],
    )
    based_on: str | None = Field(
        default=None,
        description="The version to start from; the active one when omitted.",
        examples=["sop-v1"],
    )
    changes: dict[str, Any] = Field(
        examples=[{"windows": {"claim_window_h": 120}}],
        description="Only what changes, nested as in the definition, e.g. "
        '`{"windows": {"claim_window_h": 120}, "liability": {"L11": {"payout_pct": 40}}}`.',
    )
    reason: OptionalText = Field(
        default="",
        max_length=2000,
        description="Why the SOP should change; kept forever.",
        examples=["Sellers in the north-east need a day more to file"],
    )


class ProposeIn(RequestModel):
    effective_at: Instant = Field(
        description="From this instant new decisions use the version; not in the past."
    )
    reason: Text = Field(min_length=3, max_length=2000, description="Why adopt it; kept forever.")


class ApproveIn(RequestModel):
    reason: OptionalText = Field(default="", max_length=2000)


class RetireIn(RequestModel):
    reason: Text = Field(min_length=3, max_length=2000)


class WhatIfIn(RequestModel):
    # A window that starts before it ends: the example made from the fields alone had `from`
    # and `to` at one instant, a window holding nothing.
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"from": "2026-11-01T00:00:00Z", "to": "2026-11-24T10:00:00Z", "limit": 20_000}
            ]
        },
    )

    decided_from: Instant | None = Field(
        default=None, alias="from", description="Cases decided at or after this instant."
    )
    decided_to: Instant | None = Field(
        default=None, alias="to", description="Cases decided before this instant."
    )
    limit: int = Field(default=20_000, ge=1, le=200_000, description="At most this many cases.")

    @field_validator("decided_to")
    @classmethod
    def _after_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A window ending before it starts holds no case: it was answered 200 with nothing
        # in it, which reads as "the draft changes nothing" rather than as a typo.
        start = info.data.get("decided_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be after `from`")
        return value
