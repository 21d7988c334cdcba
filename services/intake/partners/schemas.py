"""HTTP shapes of partner webhooks."""

from pydantic import BaseModel, Field


class WebhookAccepted(BaseModel):
    raw_ref: str = Field(description="Id of the archived request.")
    accepted: int = Field(description="Canonical events emitted by this request.")
    duplicates: int = Field(description="Partner events seen before (redeliveries).")
    unmapped: list[str] = Field(description="Partner statuses with no canonical mapping yet.")
    held: int = Field(
        default=0,
        description="Scans of returns the marketplace has not announced yet: emitted once it "
        "does, if the shipment is assigned to this partner.",
    )
    refused: int = Field(
        default=0, description="Scans of shipments not assigned to this partner: not emitted."
    )
