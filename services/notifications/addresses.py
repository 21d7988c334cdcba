"""Email addresses are PII: we compare them by keyed hash and show them only masked."""

from __future__ import annotations

import hashlib
import hmac


def normalise(address: str) -> str:
    return address.strip().lower()


def address_hash(address: str, key: str) -> str:
    """HMAC-SHA256 of the normalised address: stable for lookups, useless to a reader of the
    table without the key (a plain hash of an address is easy to reverse by guessing)."""
    return hmac.new(key.encode(), normalise(address).encode(), hashlib.sha256).hexdigest()


def mask(address: str) -> str:
    """`s***@example.com`: enough for an agent to recognise an address, not to harvest it."""
    local, _, domain = address.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"
