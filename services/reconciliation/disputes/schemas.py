"""HTTP bodies of partner disputes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from shared.partner_signing import SigningScheme
from shared.validation import (
    CallbackUrl,
    EmailAddress,
    EvidenceUrl,
    RequestModel,
    SentPaise,
    Text,
)


class EndpointIn(RequestModel):
    url: CallbackUrl = Field(
        description="Where the partner receives debit notices (POST); no credentials in it."
    )
    scheme: SigningScheme = Field(
        description="How notices are signed: the partner's own scheme (standard_webhooks for "
        "swiftship, timestamped_hmac for rapidroute, api_key for desipost)."
    )
    secret: str = Field(
        min_length=16,
        max_length=500,
        description="The signing secret (`whsec_…` for standard_webhooks) or the API key; "
        "stored encrypted, never returned.",
    )
    enabled: bool = True
    finance_contact: EmailAddress | None = Field(
        default=None, description="Where the monthly statement is emailed."
    )


class EnabledIn(RequestModel):
    enabled: bool


class EvidenceRef(RequestModel):
    uri: EvidenceUrl = Field(description="https URI of the document, without credentials.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ContestIn(RequestModel):
    reason: Text = Field(min_length=5, max_length=4000)
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=20)


class RulingIn(RequestModel):
    # The published example names an amount, so it is a PARTIAL ruling: the example made from
    # the fields alone was UPHELD with an amount, which no ruling takes.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "PARTIAL",
                    "reversed_amount": 10_000,
                    "reason": "The handover weight supports part of the partner's contest",
                }
            ]
        }
    )

    outcome: Literal["UPHELD", "REVERSED", "PARTIAL"]
    reversed_amount: SentPaise | None = Field(
        default=None,
        description="PARTIAL only: how much comes off the partner's debit (UPHELD may say 0).",
    )
    reason: Text = Field(
        min_length=3,
        max_length=4000,
        description="Why: sent to the partner with the ruling (partner.debit_notice_ruled.v1).",
    )

    @field_validator("reversed_amount")
    @classmethod
    def _partial_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        # An amount beside UPHELD or REVERSED was dropped: REVERSED with an amount took the
        # whole debit off, which is not what a client naming an amount meant. UPHELD with 0
        # says what UPHELD says (nothing comes off), as the earlier example put it: accepted.
        outcome = info.data.get("outcome")
        if value == 0 and outcome == "UPHELD":
            return None
        if value is not None and outcome in ("UPHELD", "REVERSED"):
            raise ValueError(
                f"only a PARTIAL ruling takes an amount; {info.data['outcome']} takes none"
            )
        return value
