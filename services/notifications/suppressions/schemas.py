"""HTTP shapes of the suppression list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.paging import PageOf
from shared.validation import EmailAddress, RequestModel, Text


class SuppressionIn(RequestModel):
    address: EmailAddress = Field(
        description="The address to suppress. Stored only as a keyed hash."
    )
    reason: Literal["manual", "complaint", "hard_bounce"] = "manual"
    detail: Text | None = Field(default=None, max_length=500)


class SuppressionOut(BaseModel):
    address_hash: str
    reason: str
    detail: str | None
    source_message_id: UUID | None
    created_by: str
    created_at: datetime


class SuppressionListOut(PageOf):
    """A page of suppressed addresses, newest first (docs/api.md, "Paging")."""

    items: list[SuppressionOut]
