"""HTTP shapes of seller feedback."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Id
from shared.validation import EmailAddress, OptionalText, RequestModel


class FeedbackIn(RequestModel):
    # As the seller portal sends it, here without an address: the answer goes to the directory's.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seller_id": "S-1001",
                    "rating": 5,
                    "text": "Quick and fair resolution",
                    "return_id": "RET-1001",
                }
            ]
        }
    )

    seller_id: Id
    rating: int = Field(ge=1, le=5, examples=[5])
    text: OptionalText = Field(default="", max_length=5000, examples=["Quick and fair resolution"])
    return_id: Id | None = None
    seller_email: EmailAddress | None = Field(
        default=None,
        description="Where this rating's emails go; without it, the seller's registered address "
        "in the seller directory. Sealed at once: intake keeps no plaintext.",
    )


class FeedbackAccepted(BaseModel):
    feedback_id: str
    seller_id: str
    received_at: datetime
    event_id: str
