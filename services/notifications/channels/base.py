"""The interface every outgoing channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: UUID
    recipient: str
    subject: str
    body_text: str
    body_html: str


class DeliveryError(Exception):
    """Sending failed. `permanent` failures are never retried (e.g. SMTP 5xx)."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver or raise DeliveryError."""
