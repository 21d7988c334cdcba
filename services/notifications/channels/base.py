"""The interface every outgoing channel implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Attachment:
    """A text file sent with a message (a case report as HTML, a statement as CSV)."""

    filename: str
    content_type: str  # e.g. text/html, text/csv
    content: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: UUID
    recipient: str
    subject: str
    body_text: str
    body_html: str
    # W3C trace context of the event that asked for this message (shared/tracing.py).
    traceparent: str | None = None
    reply_to: str | None = None  # the signed reply address of seller mail about a case
    # The case a seller email is about: every email of one case names the same thread, so the
    # seller's mail program shows the case's conversation together, whatever each subject says.
    thread: str | None = None
    attachments: tuple[Attachment, ...] = ()


class DeliveryError(Exception):
    """Sending failed. `permanent` failures are never retried (e.g. SMTP 5xx); a `hard_bounce`
    means the recipient address itself was refused for good (5xx on RCPT)."""

    def __init__(
        self, message: str, *, permanent: bool, code: int | None = None, hard_bounce: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.hard_bounce = hard_bounce


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver or raise DeliveryError."""

    async def send_many(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryError | None]:
        """Deliver several messages (one connection where the channel has connections);
        one result per message, in order: None for delivered, else the error."""

    async def close(self) -> None:
        """Release what the channel keeps between sends (its open connections)."""
