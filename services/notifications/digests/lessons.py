"""A policy lesson: what composing a case event hands to the seller's daily digest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Lesson:
    """A policy lesson for a seller's daily education digest."""

    seller_id: str
    recipient: str
    dedup_key: str
    topic: str
    case_id: str | None
    context: dict[str, Any]
