"""HTTP shapes of messages and their delivery attempts (addresses masked)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from shared.paging import PageOf


class AttemptOut(BaseModel):
    attempt: int
    outcome: str
    code: int | None
    error: str | None
    attempted_at: datetime
    next_attempt_at: datetime | None


class MessageOut(BaseModel):
    message_id: UUID
    template: str
    audience: str
    case_id: str | None
    case_version: int | None
    return_id: str | None
    seller_id: str | None
    recipient: str  # masked: s***@example.com
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    resend_of: UUID | None
    created_at: datetime
    sent_at: datetime | None
    delivery_attempts: list[AttemptOut]


class MessageDetailOut(MessageOut):
    body_text: str
    body_html: str


class MessageListOut(PageOf):
    """A page of messages, newest first (docs/api.md, "Paging")."""

    items: list[MessageOut]
