"""The inbox: `ce_id`s a service has already handled, written in the same transaction as the
handler's effects, so a redelivered event is recognised and has no second effect."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, String, func
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import Mapped, mapped_column


class InboxMixin:
    """Columns of a service's `inbox` table. Declare `class Inbox(InboxMixin, Base)`."""

    __tablename__ = "inbox"

    ce_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True)
    ce_type: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    # "handled", or "dead_lettered" for a message the handler rejected and sent to the DLQ.
    outcome: Mapped[str] = mapped_column(String(20), default="handled")
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
