"""HTTP shapes of inbound email, triage and a case's conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel


class InboundOut(BaseModel):
    reply_id: UUID
    kind: str
    status: str
    token: str
    case_id: str | None
    candidate_case_id: str | None
    confidence: float
    match_reasons: list[str]
    subject: str
    text: str
    attachments: list[dict[str, Any]]
    received_at: datetime
    read_at: datetime | None


class ConversationEntry(BaseModel):
    direction: str  # out | in
    at: datetime
    template: str | None = None
    subject: str
    text: str | None = None
    delivery: str | None = None  # out: pending, held, sent, failed, suppressed, cancelled,
    # superseded (a later message said it instead)
    message_id: UUID | None = None
    # out: the case version the message answers, so the desk (and a test) can tell which later
    # message said what a superseded one would have.
    case_version: int | None = None
    reply_id: UUID | None = None
    attachments: list[dict[str, Any]] = []
    read: bool | None = None


class ConversationOut(BaseModel):
    case_id: str
    unread_replies: int
    entries: list[ConversationEntry]


class UnreadCase(BaseModel):
    case_id: str
    unread_replies: int
    latest_reply_at: datetime


class ReadOut(BaseModel):
    case_id: str
    marked_read: int
