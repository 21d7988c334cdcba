"""HTTP shapes of partner webhooks."""

from pydantic import BaseModel, Field


class WebhookAccepted(BaseModel):
    raw_ref: str = Field(description="Id of the archived request.")
    accepted: int = Field(description="Canonical events emitted by this request.")
    duplicates: int = Field(description="Partner events seen before (redeliveries).")
    unmapped: list[str] = Field(description="Partner statuses with no canonical mapping yet.")
