"""HTTP shapes of partner webhooks."""

from pydantic import BaseModel


class WebhookAccepted(BaseModel):
    raw_ref: str
    accepted: int
    duplicates: int
    unmapped: list[str]
